// A `tandem-relay` process started through a command prefix (`ip netns exec <hub>`), which
// RelayProcess (always `node` on 127.0.0.1) does not offer. `ip netns exec` execs in place, so
// the child's pid is the relay's own and SIGKILL reaches it directly.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { RELAY_MAIN } from '../helpers/relay-process.js'

export class NsRelay {
  readonly exited: Promise<number | null>

  private constructor(
    readonly child: ChildProcess,
    readonly peerId: string,
    readonly multiaddrs: string[],
    readonly stderr: string[]
  ) {
    this.exited = new Promise(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
      else
        child.once('exit', code => {
          resolve(code)
        })
    })
  }

  static async start(dataDir: string, listen: string[], prefix: string[], timeoutMs = 20_000): Promise<NsRelay> {
    const [cmd, ...rest] = [...prefix, 'node', RELAY_MAIN]
    const child = spawn(cmd!, [...rest, '--data', dataDir, ...listen.flatMap(l => ['--listen', l]), '--http', '127.0.0.1:0', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const stderr: string[] = []
    createInterface({ input: child.stderr! }).on('line', l => {
      if (stderr.length < 2000) stderr.push(l)
    })
    const lines = createInterface({ input: child.stdout! })
    let peerId = ''
    const addrs: string[] = []
    let timer: NodeJS.Timeout | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`tandem-relay did not start in time; stderr:\n${stderr.join('\n')}`))
        }, timeoutMs)
        child.once('exit', code => {
          reject(new Error(`tandem-relay exited with ${code}; stderr:\n${stderr.join('\n')}`))
        })
        lines.on('line', line => {
          if (line.startsWith('peer id: ')) peerId = line.slice(9)
          else if (line.startsWith('listening: ')) addrs.push(line.slice(11))
          else if (line.startsWith('http: ')) resolve()
        })
      })
      return new NsRelay(child, peerId, addrs, stderr)
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return
    this.child.kill(signal)
    await this.exited
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.alive) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => {
      this.child.kill('SIGKILL')
    }, timeoutMs)
    await this.exited
    clearTimeout(timer)
  }
}
