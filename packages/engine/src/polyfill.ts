// libp2p 3 calls Promise.withResolvers (Node 22+, current browsers): both assemblies load this first.
// On Node, `@tandem/engine/polyfill` is node/polyfill.ts (this, and a WebSocket for dialing /ws relays).
import '@tandem/transport/polyfill'
