import { yamux } from '@chainsafe/libp2p-yamux'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** What yamux's stream keeps of its receive window (private in its types). */
interface ReceiveWindow {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let installed = false

/**
 * Yamux (@chainsafe/libp2p-yamux 8) answers every data frame it receives with a window update
 * of that frame's size. A chat message is one small frame each way, so every frame cost a second
 * one back: 1,045 of the 1,700 socket writes of 220 messages through the relay were these 30-byte
 * updates (strace, bench `latency`), each one Noise-sealed, written, read and opened again.
 * The yamux spec leaves it to the receiver when to send one; go-yamux and rust-yamux send it once
 * half of the window is used, and so does this: an established stream whose sender still has
 * half its window of credit or more is not sent an update. The first update of a stream (its
 * SYN or ACK), and any while the window grows, go as before.
 *
 * It changes yamux's stream class for the whole process (the muxer makes its streams itself),
 * once; what goes on the wire stays valid yamux to any peer.
 */
function installHalfWindowUpdates(): void {
  if (installed) return
  installed = true
  const original = YamuxStream.prototype.sendWindowUpdate
  YamuxStream.prototype.sendWindowUpdate = function sendWindowUpdateAtHalf(this: YamuxStream) {
    const w = this as unknown as ReceiveWindow
    if (w.state === StreamState.Established && w.recvWindowCapacity * 2 >= w.recvWindow) return
    original.call(this)
  }
}

/** The yamux muxer factory, its streams sending window updates once half their window is used. */
export function yamuxHalfWindow(init: Parameters<typeof yamux>[0]): ReturnType<typeof yamux> {
  installHalfWindowUpdates()
  return yamux(init)
}
