import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The compiled `tandem-relay` entry point. */
export const RELAY_MAIN = fileURLToPath(new URL('../../relay/dist/main.js', import.meta.url))

/**
 * A real `tandem-relay` process on 127.0.0.1 for tests, the `npm start` launcher and the
 * benchmarks: started, its printed peer id and addresses read back, stopped.
 */
export class RelayProcess {
  /** Its log lines (stderr; the first 2,000). */
  readonly stderr: string[] = []
  private readonly logWaiters = new Set<(line: string) => void>()
  readonly exited: Promise<number | null>

  private constructor(
    readonly child: ChildProcess,
    readonly peerId: string,
    readonly multiaddrs: string[],
    readonly httpUrl: string | null
  ) {
    this.exited = new Promise(resolve => {
      if (child.exitCode !== null) resolve(child.exitCode)
      else
        child.once('exit', code => {
          resolve(code)
        })
    })
    createInterface({ input: child.stderr! }).on('line', l => {
      if (this.stderr.length < 2000) this.stderr.push(l)
      for (const w of [...this.logWaiters]) w(l)
    })
  }

  /** Starts a relay on `dataDir`; `listen` defaults to a free TCP port on 127.0.0.1; `nodeArgs` go to node (a bench's --cpu-prof). */
  static async start(dataDir: string, extra: string[] = [], listen = ['/ip4/127.0.0.1/tcp/0'], timeoutMs = 20_000, nodeArgs: string[] = []): Promise<RelayProcess> {
    const child = spawn('node', [...nodeArgs, RELAY_MAIN, '--data', dataDir, ...listen.flatMap(l => ['--listen', l]), '--http', '127.0.0.1:0', '--log-level', 'warn', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const lines = createInterface({ input: child.stdout! })
    let peerId = ''
    const addrs: string[] = []
    let timer: NodeJS.Timeout | undefined
    try {
      const http = await new Promise<string | null>((resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error('tandem-relay did not start in time'))
        }, timeoutMs)
        child.once('exit', code => {
          reject(new Error(`tandem-relay exited with ${code}`))
        })
        lines.on('line', line => {
          if (line.startsWith('peer id: ')) peerId = line.slice(9)
          else if (line.startsWith('listening: ')) addrs.push(line.slice(11))
          else if (line.startsWith('http: ')) resolve(line.slice(6).split(' ')[0]!)
        })
      })
      return new RelayProcess(child, peerId, addrs, http)
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** Resolves with the first log line (seen or to come) that `match` accepts; rejects after `timeoutMs`. */
  waitForLog(match: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const seen = this.stderr.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const waiter = (line: string): void => {
        if (!match(line)) return
        clearTimeout(timer)
        this.logWaiters.delete(waiter)
        resolve(line)
      }
      const timer = setTimeout(() => {
        this.logWaiters.delete(waiter)
        reject(new Error(`tandem-relay: no such log line within ${timeoutMs} ms`))
      }, timeoutMs)
      this.logWaiters.add(waiter)
    })
  }

  /** The relay's TCP multiaddr (with /p2p/). */
  get address(): string {
    return this.multiaddrs.find(a => a.includes('/tcp/') && !a.includes('/ws')) ?? this.multiaddrs[0]!
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal)
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL')
      }, timeoutMs)
      await this.exited
      clearTimeout(timer)
    }
    return this.child.exitCode
  }
}
