import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { FrameTooLargeError, UnsupportedVersionError } from './errors.js'
import * as wire from './wire.js'

/** Bound on a whole encoded frame of either protocol (sync, store). */
export const MAX_FRAME_BYTES = 256 * 1024

/** What one protocol's frames need to become an encode/decode pair with the shared rules. */
export interface FrameGrammar<F> {
  /** Protocol name for messages ("sync", "store"). */
  name: string
  version: number
  helloTag: number
  write(encoder: encoding.Encoder, frame: F): void
  read(decoder: decoding.Decoder): F
  errs: wire.WireErrors
}

/** Encodes one frame; a frame over MAX_FRAME_BYTES is a FrameTooLargeError. */
export function encodeFrame<F>(g: FrameGrammar<F>, frame: F): Uint8Array {
  const bytes = encoding.encode(encoder => wire.guard(() => g.write(encoder, frame), 'frame', g.errs))
  if (bytes.length > MAX_FRAME_BYTES) {
    throw new FrameTooLargeError(`frame is ${bytes.length} bytes, over the bound of ${MAX_FRAME_BYTES}`)
  }
  return bytes
}

/** Decodes exactly one frame; the size bound is checked before a single byte is parsed. */
export function decodeFrame<F>(g: FrameGrammar<F>, bytes: Uint8Array): F {
  if (bytes instanceof Uint8Array && bytes.length > MAX_FRAME_BYTES) {
    throw new FrameTooLargeError(`frame is ${bytes.length} bytes, over the bound of ${MAX_FRAME_BYTES}`)
  }
  try {
    return wire.decodeWhole(bytes, g.read, 'frame', g.errs)
  } catch (e) {
    throw foreignHelloError(g, bytes) ?? e
  }
}

/** Reads one frame from a longer buffer (the streaming counterpart of decodeFrame). */
export function readOneFrame<F>(g: FrameGrammar<F>, decoder: decoding.Decoder): F {
  const start = decoder.pos
  try {
    return wire.guard(() => g.read(decoder), 'frame', g.errs)
  } catch (e) {
    throw foreignHelloError(g, decoder.arr.subarray(start)) ?? e
  }
}

/**
 * Tag and version lead the hello in every version. When a hello of another version fails
 * to parse as ours, report the version mismatch (what the peer needs to hear), not the
 * parse error it caused.
 */
function foreignHelloError<F>(g: FrameGrammar<F>, bytes: Uint8Array): UnsupportedVersionError | undefined {
  try {
    const decoder = decoding.createDecoder(bytes)
    if (wire.readUint(decoder, 'frame tag', g.errs) !== g.helloTag) return undefined
    const version = wire.readUint(decoder, 'hello.version', g.errs)
    if (version === g.version) return undefined
    return new UnsupportedVersionError(`peer hello is ${g.name} protocol version ${version}, this build speaks ${g.version}`)
  } catch {
    return undefined
  }
}

/** Throws UnsupportedVersionError unless a peer's hello speaks this build's version. */
export function checkFrameVersion<F>(g: FrameGrammar<F>, version: number): void {
  if (version !== g.version) {
    throw new UnsupportedVersionError(`peer speaks ${g.name} protocol version ${version}, this build speaks ${g.version}`)
  }
}
