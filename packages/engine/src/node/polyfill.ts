// Load first in a Node entry point that uses the engine (the Node assembly loads it for itself).
// - libp2p 3 calls Promise.withResolvers (Node 22+); Tandem supports Node 20.19+.
// - @libp2p/websockets dials with globalThis.WebSocket, which Node 20 has only behind a flag:
//   `ws` speaks the browser API the transport uses. A Node device dials /ws relay addresses
//   with it (a relay that exposes only WebSockets, as behind a TLS proxy).
import '@tandem/transport/polyfill'
import { WebSocket as WsWebSocket } from 'ws'

const G = globalThis as unknown as { WebSocket?: unknown }
if (typeof G.WebSocket !== 'function') G.WebSocket = WsWebSocket
