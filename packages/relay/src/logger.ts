import { pino, type Logger as PinoLogger } from 'pino'

/** The relay's structured logger (pino). */
export type Logger = PinoLogger

export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal, silent (default info). */
  level?: string
  /** Where the JSON lines go (default stderr, so stdout stays clean for the CLI's own lines). */
  destination?: 'stdout' | 'stderr'
}

/** A pino logger writing JSON lines, synchronously, to stderr (or stdout). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.destination === 'stdout' ? 1 : 2
  return pino({ name: 'tandem-relay', level: options.level ?? 'info' }, pino.destination({ fd, sync: true }))
}
