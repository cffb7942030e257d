/**
 * How tandem-device talks to the person: plain lines on stdout, and a failure as one
 * sentence on stderr with its stable code, never a stack trace (the code is what to search
 * for, the sentence what to do).
 */
export const say = (line = ''): void => {
  liveLine?.clear()
  process.stdout.write(`${line}\n`)
  liveLine?.redraw()
}

/** The line a person is typing at a terminal: taken off before a line is said, drawn again after it. */
export interface LiveLine {
  clear(): void
  redraw(): void
}

let liveLine: LiveLine | null = null

/** Lines said from now on go above `line` (the Terminal's, when stdin is a terminal). */
export function setLiveLine(line: LiveLine | null): void {
  liveLine = line
}

/** `tandem-device: <message> (<CODE>)`, the form every failure of the command takes. */
export function describeError(err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  const code = (err as { code?: unknown })?.code
  return `tandem-device: ${message}${typeof code === 'string' ? ` (${code})` : ''}`
}

export function sayError(err: unknown): void {
  process.stderr.write(`${describeError(err)}\n`)
}

/** A wait the person can read: "4 min 59 s", "30 s", "1 h". */
export function duration(ms: number): string {
  const s = Math.ceil(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  const m = Math.round(s / 60)
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** A time as the person's clock reads it, to the minute: "2026-12-06 14:05" (local time). */
export function when(ms: number | null): string {
  if (ms === null) return '—'
  const d = new Date(ms)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}
