import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * A connection encrypter whose records reach the socket in one write each.
 *
 * @chainsafe/libp2p-noise 17 hands its transport every record as a list of two buffers, the
 * 2-byte length and the ciphertext, and @libp2p/tcp 11 calls `socket.write` once per buffer:
 * two syscalls per record, and a reader that may wake for the 2 bytes alone. A small chat
 * message crosses three connections and their window updates, so this doubled the socket
 * work on the latency path. Joining the list into one buffer before it reaches the
 * transport keeps the bytes and the call sequence the same. (Noise 14 joined them itself.)
 */
export function withJoinedWrites<C, E>(factory: (components: C) => ConnectionEncrypter<E>): (components: C) => ConnectionEncrypter<E> {
  return components => {
    const encrypter = factory(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (connection, options) => await outbound(joinSends(connection), options)
    encrypter.secureInbound = async (connection, options) => await inbound(joinSends(connection), options)
    return encrypter
  }
}

/** `connection`, its `send` now given one contiguous buffer per call. */
function joinSends(connection: MessageStream): MessageStream {
  const send = connection.send.bind(connection)
  // (a list of one buffer gives that buffer back without a copy)
  connection.send = (data: Uint8Array | Uint8ArrayList): boolean => send(data instanceof Uint8Array ? data : data.subarray())
  return connection
}
