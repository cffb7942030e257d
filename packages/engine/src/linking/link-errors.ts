import { TandemError } from '@tandem/protocol'

/** The new device could not be reached at any address its code lists (nor through this device's relays). */
export class LinkUnreachableError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LINK_UNREACHABLE', message, options)
  }
}

/**
 * The link session ended before either side finished it: the other device closed the
 * stream or went away, or this device stopped. Nothing was linked by this session; the
 * code it used is spent (single use), so the person shows a new one.
 */
export class LinkInterruptedError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LINK_INTERRUPTED', message, options)
  }
}
