import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The compiled `tandem-device` entry point. */
export const DEVICE_MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

export interface DeviceEvent {
  event: string
  [key: string]: unknown
}

interface Waiter {
  match: (e: DeviceEvent) => boolean
  resolve: (e: DeviceEvent) => void
}

/**
 * A real `tandem-device --control` process, driven over JSON lines.
 * Every wait is bounded; `kill()` always reaps the process.
 */
export class DeviceProcess {
  readonly events: DeviceEvent[] = []
  readonly stderr: string[] = []
  /**
   * Keep every event and stderr line (what `waitForEvent` finds when it came first). A
   * long-running driver (the `npm start` launcher) turns it off once set up: then only
   * waits that are pending see events, and the last lines of stderr are kept.
   */
  retain = true
  private nextId = 1
  private readonly replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private waiters: Waiter[] = []
  readonly exited: Promise<number | null>

  private constructor(
    readonly child: ChildProcess,
    readonly label: string
  ) {
    createInterface({ input: child.stdout! }).on('line', line => {
      this.onLine(line)
    })
    createInterface({ input: child.stderr! }).on('line', line => {
      this.stderr.push(line)
      if (!this.retain && this.stderr.length > 200) this.stderr.splice(0, this.stderr.length - 100)
      this.notify({ event: 'stderr', line }) // for waitForStderr; not kept among the events
    })
    // A write to a device that is exiting fails with EPIPE. Unheard, that error ended the
    // driver: the launcher exited 1 on Ctrl-C, when the signal reached the devices as it asked them
    // to stop (test/device-api/launcher.test.ts, once in CI). The exit is what says it stopped.
    child.stdin!.on('error', () => {})
    this.exited = new Promise(resolve => {
      child.once('exit', code => {
        resolve(code)
      })
    })
    void this.exited.then(() => {
      for (const r of this.replies.values()) r.reject(new Error(`${label} exited`))
      this.replies.clear()
    })
  }

  /** Starts a device; `command` lets a test wrap it (e.g. inside a network namespace). */
  static start(label: string, args: string[], command: string[] = ['node', DEVICE_MAIN]): DeviceProcess {
    const [cmd, ...rest] = command
    const child = spawn(cmd!, [...rest, '--control', ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    return new DeviceProcess(child, label)
  }

  /** Sends a command and waits for its reply (bounded). */
  request<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id)
        reject(new Error(`${this.label}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.replies.set(id, {
        resolve: v => {
          clearTimeout(timer)
          resolve(v as T)
        },
        reject: e => {
          clearTimeout(timer)
          reject(e)
        }
      })
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    })
  }

  /**
   * Joins the account of `existing` without a person in the loop: this device's offer, the
   * grant `existing` signs for it, accepted here (`link` is the way with a code and a person).
   */
  async joinVia(existing: DeviceProcess): Promise<void> {
    const offer = await this.request('device-offer')
    const grant = await existing.request('add-device', { offer })
    await this.request('accept-grant', { grant })
  }

  /** Waits for an event (already seen or future) matching `match`, bounded. */
  waitForEvent(match: (e: DeviceEvent) => boolean, timeoutMs = 30_000): Promise<DeviceEvent> {
    const seen = this.events.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: e => {
          clearTimeout(timer)
          resolve(e)
        }
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== waiter)
        reject(new Error(`${this.label}: event not seen within ${timeoutMs} ms; stderr tail:\n${this.stderr.slice(-5).join('\n')}`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** Waits (bounded) for a line on the device's stderr (stderr and the control events on stdout are separate pipes: either may come first). */
  async waitForStderr(match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const seen = this.stderr.find(match)
    if (seen !== undefined) return seen
    const e = await this.waitForEvent(e => e.event === 'stderr' && match(e.line as string), timeoutMs)
    return e.line as string
  }

  /** Asks the device to stop, then makes sure it is gone. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.stdin!.write(`${JSON.stringify({ cmd: 'stop' })}\n`)
    const timer = setTimeout(() => {
      this.child.kill('SIGKILL')
    }, timeoutMs)
    await this.exited
    clearTimeout(timer)
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill(signal)
    await this.exited
  }

  private onLine(line: string): void {
    let msg: { id?: number; ok?: boolean; result?: unknown; error?: { code: string; message: string } } & Partial<DeviceEvent>
    try {
      msg = JSON.parse(line)
    } catch {
      this.stderr.push(`(stdout) ${line}`)
      return
    }
    if (msg.id !== undefined && this.replies.has(msg.id)) {
      const r = this.replies.get(msg.id)!
      this.replies.delete(msg.id)
      if (msg.ok === true) r.resolve(msg.result)
      else r.reject(Object.assign(new Error(`${this.label}: ${msg.error?.code}: ${msg.error?.message}`), { code: msg.error?.code }))
      return
    }
    if (typeof msg.event === 'string') {
      const e = msg as DeviceEvent
      if (this.retain) this.events.push(e)
      this.notify(e)
    }
  }

  private notify(e: DeviceEvent): void {
    for (const w of [...this.waiters])
      if (w.match(e)) {
        this.waiters = this.waiters.filter(x => x !== w)
        w.resolve(e)
      }
  }
}
