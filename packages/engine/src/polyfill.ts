// Load first in an entry point that uses libp2p on Node 20 (the engine loads it for itself).
import '@tandem/transport/polyfill'
