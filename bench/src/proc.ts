import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Compiled bench scripts (peers, tools) live beside this file in dist/. */
export const script = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url))

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

// ── every child the bench starts is tracked, and killed if the bench dies ────

const children = new Set<ChildProcess>()
export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => {
    children.delete(child)
  })
  return child
}
function killAll(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL')
    } catch {
      /* gone */
    }
  }
}
process.once('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    killAll()
    process.exit(130)
  })

// ── temporary directories ────────────────────────────────────────────────────

const dirs: string[] = []
export async function tempDir(tag = 'x'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `tandem-bench-${tag}-`))
  dirs.push(d)
  return d
}
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => {
        resolve(port)
      })
    })
  })
}

// ── /proc readings ────────────────────────────────────────────────────────────

async function status(pid: number): Promise<string> {
  return await readFile(`/proc/${pid}/status`, 'utf8')
}
const kib = (text: string, field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN)

/** Resident memory now, MiB. */
export async function rssMiB(pid: number): Promise<number> {
  return kib(await status(pid), 'VmRSS') / 1024
}
/** Peak resident memory since start (or since {@link resetPeak}), MiB. */
export async function peakMiB(pid: number): Promise<number> {
  return kib(await status(pid), 'VmHWM') / 1024
}
/** Resets a process's peak RSS counter (Linux ≥ 4.0, `echo 5 > clear_refs`). */
export async function resetPeak(pid: number): Promise<void> {
  const { writeFile } = await import('node:fs/promises')
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {})
}
/** The machine's load averages over 1, 5 and 15 minutes. */
export async function loadAvg(): Promise<number[]> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).map(Number)
}
/** CPU seconds (user + system) a process has used. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

// ── a child process that speaks JSON lines (tandem-device --control, peer clients, tools) ──

export interface Event {
  event: string
  [k: string]: unknown
}

/**
 * A child process driven over JSON lines on stdin/stdout: requests carry an id
 * and get one reply; anything else with an `event` field goes to listeners.
 * Every wait is bounded; `stop()` asks, then kills.
 */
export class JsonProcess {
  readonly stderr: string[] = []
  readonly exited: Promise<number | null>
  private nextId = 1
  private readonly replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  private readonly listeners = new Set<(e: Event) => void>()
  /** Every stdout line, before parsing (for processes that print plain lines, like servers). */
  readonly lineListeners = new Set<(line: string) => void>()
  readonly child: ChildProcess

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    env?: NodeJS.ProcessEnv
  ) {
    this.child = track(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env }))
    createInterface({ input: this.child.stdout! }).on('line', line => {
      this.onLine(line)
    })
    createInterface({ input: this.child.stderr! }).on('line', line => {
      if (this.stderr.length > 200) this.stderr.shift()
      this.stderr.push(line)
    })
    this.exited = new Promise(resolve => {
      this.child.once('exit', code => {
        resolve(code)
      })
    })
    void this.exited.then(code => {
      for (const r of this.replies.values()) {
        clearTimeout(r.timer)
        r.reject(new Error(`${label} exited (${code}); stderr:\n${this.stderr.slice(-8).join('\n')}`))
      }
      this.replies.clear()
    })
  }

  get pid(): number {
    return this.child.pid!
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** `raw`: fields already serialized as JSON (built ahead of a timed section), added as they are. */
  request<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000, raw: Record<string, string> = {}): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      if (!this.running) {
        reject(new Error(`${this.label} is not running`))
        return
      }
      const timer = setTimeout(() => {
        this.replies.delete(id)
        reject(new Error(`${this.label}: ${cmd} timed out after ${timeoutMs} ms; stderr:\n${this.stderr.slice(-8).join('\n')}`))
      }, timeoutMs)
      this.replies.set(id, {
        resolve: v => {
          resolve(v as T)
        },
        reject,
        timer
      })
      const line = JSON.stringify({ id, cmd, ...args })
      const extra = Object.entries(raw)
        .map(([k, v]) => `,${JSON.stringify(k)}:${v}`)
        .join('')
      this.child.stdin!.write(`${line.slice(0, -1) + extra}}\n`)
    })
  }

  /** Writes a command without waiting for its reply. */
  post(cmd: string, args: Record<string, unknown> = {}): void {
    if (this.running) this.child.stdin!.write(`${JSON.stringify({ id: this.nextId++, cmd, ...args })}\n`)
  }

  on(listener: (e: Event) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Resolves with the first future event matching `match` (bounded). */
  next(match: (e: Event) => boolean, timeoutMs = 30_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const off = this.on(e => {
        if (match(e)) {
          off()
          clearTimeout(timer)
          resolve(e)
        }
      })
      const timer = setTimeout(() => {
        off()
        reject(new Error(`${this.label}: event not seen within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-8).join('\n')}`))
      }, timeoutMs)
    })
  }

  /** Asks the process to stop (`stop` command, then SIGTERM), then kills it. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return
    this.post('stop')
    const term = setTimeout(() => {
      this.child.kill('SIGTERM')
    }, timeoutMs / 2)
    const kill = setTimeout(() => {
      this.child.kill('SIGKILL')
    }, timeoutMs)
    await this.exited
    clearTimeout(term)
    clearTimeout(kill)
  }

  async kill(): Promise<void> {
    if (!this.running) return
    this.child.kill('SIGKILL')
    await this.exited
  }

  private onLine(line: string): void {
    for (const l of [...this.lineListeners]) l(line)
    let msg: { id?: number; ok?: boolean; result?: unknown; error?: { code?: string; message?: string }; event?: string }
    try {
      msg = JSON.parse(line)
    } catch {
      if (this.stderr.length > 200) this.stderr.shift()
      this.stderr.push(`(stdout) ${line}`)
      return
    }
    if (typeof msg.id === 'number' && this.replies.has(msg.id)) {
      const r = this.replies.get(msg.id)!
      this.replies.delete(msg.id)
      clearTimeout(r.timer)
      if (msg.ok === true) r.resolve(msg.result)
      else r.reject(Object.assign(new Error(`${this.label}: ${msg.error?.code}: ${msg.error?.message}`), { code: msg.error?.code }))
      return
    }
    if (typeof msg.event === 'string') for (const l of [...this.listeners]) l(msg as Event)
  }
}

/** Starts a plain process and resolves once a stdout line matches (e.g. "port 1234"). */
export async function startAndWaitLine(
  label: string,
  command: string,
  args: string[],
  match: RegExp,
  timeoutMs = 30_000,
  env?: NodeJS.ProcessEnv
): Promise<{ proc: JsonProcess; m: RegExpExecArray; lines: string[] }> {
  const proc = new JsonProcess(label, command, args, env)
  const lines: string[] = []
  return await new Promise((resolve, reject) => {
    const listener = (line: string): void => {
      lines.push(line)
      const m = match.exec(line)
      if (m !== null) {
        clearTimeout(timer)
        proc.lineListeners.delete(listener)
        resolve({ proc, m, lines })
      }
    }
    const timer = setTimeout(() => {
      proc.lineListeners.delete(listener)
      void proc.kill()
      reject(new Error(`${label} did not start in ${timeoutMs} ms; stderr:\n${proc.stderr.join('\n')}`))
    }, timeoutMs)
    void proc.exited.then(code => {
      clearTimeout(timer)
      reject(new Error(`${label} exited (${code}) before it was ready; stderr:\n${proc.stderr.join('\n')}`))
    })
    proc.lineListeners.add(listener)
  })
}
