import { createInterface } from 'node:readline'

/**
 * The child side of the bench's JSON-lines protocol (the same shape as
 * `tandem-device --control`): one command per stdin line, `{id, ok, result}`
 * replies, `{event, ...}` lines for events. Commands in `background` run
 * beside the in-order queue (waits), the rest one after another.
 */
export type Handler = (c: Record<string, unknown>) => unknown
export const emit = (obj: unknown): void => {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

export function runControl(handlers: Record<string, Handler>, background: string[], onStop: () => Promise<void>): void {
  const bg = new Set(background)
  let queue: Promise<unknown> = Promise.resolve()
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void onStop()
      .catch(err => {
        process.stderr.write(`stop failed: ${String(err)}\n`)
      })
      .finally(() => {
        process.exit(0)
      })
  }
  const rl = createInterface({ input: process.stdin })
  rl.on('line', line => {
    let c: Record<string, unknown> & { id?: number; cmd?: string }
    try {
      c = JSON.parse(line)
    } catch {
      emit({ ok: false, error: { code: 'ERR_BAD_COMMAND', message: 'not JSON' } })
      return
    }
    if (c.cmd === 'stop') {
      emit({ id: c.id, ok: true, result: null })
      stop()
      return
    }
    const h = handlers[String(c.cmd)]
    if (h === undefined) {
      emit({ id: c.id, ok: false, error: { code: 'ERR_BAD_COMMAND', message: `unknown command ${String(c.cmd)}` } })
      return
    }
    const go = async (): Promise<unknown> => await h(c)
    const background = bg.has(String(c.cmd))
    if (!background) queue = queue.then(go, go)
    const done = background ? go() : queue
    done.then(
      result => {
        emit({ id: c.id, ok: true, result: result ?? null })
      },
      (err: Error & { code?: string }) => {
        emit({ id: c.id, ok: false, error: { code: err.code ?? 'ERR_INTERNAL', message: String(err?.stack ?? err) } })
      }
    )
  })
  rl.on('close', stop)
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

/** Resolves when `count()` reaches `target`; `subscribe` registers a change callback and returns an unsubscribe. */
export function waitCount(count: () => number, target: number, subscribe: (cb: () => void) => () => void): Promise<number> {
  return new Promise(resolve => {
    let off: (() => void) | null = null
    const check = (): boolean => {
      const n = count()
      if (n >= target) {
        off?.()
        resolve(n)
        return true
      }
      return false
    }
    if (check()) return
    off = subscribe(() => {
      check()
    })
  })
}

/** Parses `--name value` flags. */
export function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`)
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]!
  if (fallback !== undefined) return fallback
  throw new Error(`missing --${name}`)
}
