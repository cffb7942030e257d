import { TandemError } from '@tandem/protocol'

/** The relay was given options it cannot run with (a bad limit or address, an unreadable peer-key file). */
export class RelayConfigError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RELAY_CONFIG', message, options)
  }
}
