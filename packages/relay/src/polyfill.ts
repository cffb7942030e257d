// Load this module first in every relay entry point (before anything that
// loads libp2p). It makes Node 20.19+ look like Node 22 where libp2p needs it:
//
// - libp2p 3 calls Promise.withResolvers (Node 22+).
// - @libp2p/websockets *dials* with globalThis.WebSocket, which Node 20 only
//   has behind --experimental-websocket. Its listener (the relay's side) uses
//   the `ws` package directly and needs no global; the global only matters
//   when this process dials a /ws address (tests, tools, a relay dialing out).
//   `ws`'s WebSocket speaks the browser API the transport uses
//   (addEventListener, binaryType 'arraybuffer', bufferedAmount).
//
// It deliberately does not import @tandem/engine: the relay never loads Yjs.
import '@tandem/transport/polyfill' // Promise.withResolvers
import { WebSocket as WsWebSocket } from 'ws'

const G = globalThis as unknown as { WebSocket?: unknown }
if (typeof G.WebSocket !== 'function') G.WebSocket = WsWebSocket
