import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * A connection encrypter whose records reach the socket in one write each, and are read
 * without an exception each.
 *
 * @chainsafe/libp2p-noise 17 hands its transport every record as a list of two buffers, the
 * 2-byte length and the ciphertext, and @libp2p/tcp 11 calls `socket.write` once per buffer:
 * two syscalls per record, and a reader that may wake for the 2 bytes alone. A small chat
 * message crosses three connections and their window updates, so this doubled the socket
 * work on the latency path. Joining the list into one buffer before it reaches the
 * transport keeps the bytes and the call sequence the same. (Noise 14 joined them itself.)
 *
 * Reading, Noise 17's record decoder asks for the next record's 2-byte length after every
 * record, and its length reader throws a new RangeError when the bytes are not there yet
 * (the decoder catches it and waits for more): a stack trace captured per record received,
 * ~7 µs of the ~8 µs a record's framing cost (@libp2p/utils' LengthPrefixedDecoder, measured
 * alone). The secured connection's decoder is given a length reader that throws one error
 * made once instead; the `noiseRecordReader` test says when Noise's shape changes.
 */
export function withJoinedWrites<C, E>(factory: (components: C) => ConnectionEncrypter<E>): (components: C) => ConnectionEncrypter<E> {
  return components => {
    const encrypter = factory(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (connection, options) => leanReads(await outbound(joinSends(connection), options))
    encrypter.secureInbound = async (connection, options) => leanReads(await inbound(joinSends(connection), options))
    return encrypter
  }
}

/** What Noise 17's secured connection keeps of its record decoder (not in its types). */
interface RecordDecoderHolder {
  decoder?: { lengthDecoder?: (data: Uint8Array | Uint8ArrayList) => number; encodingLength?: () => number }
}

const SHORT_RECORD_LENGTH = new RangeError('a Noise record length has not all arrived')

/** A Noise record's big-endian 2-byte length; SHORT_RECORD_LENGTH (the one error) until both bytes are in. */
export function noiseRecordLength(data: Uint8Array | Uint8ArrayList): number {
  if (data.byteLength < 2) throw SHORT_RECORD_LENGTH
  return data instanceof Uint8Array ? (data[0]! << 8) | data[1]! : data.getUint16(0)
}

/** True when `connection` holds Noise 17's record decoder, whose length reader this module replaces. */
export function hasNoiseRecordDecoder(connection: unknown): boolean {
  const decoder = (connection as RecordDecoderHolder | null)?.decoder
  return typeof decoder?.lengthDecoder === 'function' && decoder.encodingLength?.() === 2
}

function leanReads<R extends { connection: unknown }>(secured: R): R {
  if (hasNoiseRecordDecoder(secured.connection)) (secured.connection as RecordDecoderHolder).decoder!.lengthDecoder = noiseRecordLength
  return secured
}

/**
 * `connection`, its `send` now given one contiguous buffer per call. A connection that is
 * closing refuses a write with a StreamStateError, thrown up through Noise and yamux into
 * whatever made the frame, often an event handler, where nothing catches it: a relay circuit's
 * own stream closing while a yamux window update went out over it was an uncaught exception
 * (CI, test/people/invite-chat.test.ts). Such a write cannot be carried, and a Noise record
 * dropped would break every one after it: the connection is aborted with that error instead
 * (every session above handles a close), and nothing is thrown. Any other error still throws.
 */
function joinSends(connection: MessageStream): MessageStream {
  const send = connection.send.bind(connection)
  connection.send = (data: Uint8Array | Uint8ArrayList): boolean => {
    try {
      // (a list of one buffer gives that buffer back without a copy)
      return send(data instanceof Uint8Array ? data : data.subarray())
    } catch (err) {
      if ((err as Error | null)?.name !== 'StreamStateError') throw err
      if (connection.status === 'open') connection.abort(err as Error)
      return true
    }
  }
  return connection
}
