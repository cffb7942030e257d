import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { DEVICE_MAIN } from './device-process.js'

/**
 * `tandem-device` as a person runs it (no --control): lines typed on its stdin, its stdout and
 * stderr read line by line. Every wait is bounded; `kill()` always reaps it.
 */
export class PromptProcess {
  readonly stdout: string[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  private waiters: Array<() => void> = []

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [DEVICE_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout! }).on('line', l => {
      this.stdout.push(l)
      for (const w of [...this.waiters]) w()
    })
    createInterface({ input: this.child.stderr! }).on('line', l => this.stderr.push(l))
    this.exited = new Promise(resolve => this.child.once('exit', code => resolve(code)))
  }

  type(line: string): void {
    this.child.stdin!.write(`${line}\n`)
  }

  /** The first stdout line from index `from` on that `match` accepts (seen or to come), with its index; rejects after `timeoutMs`. */
  waitLine(match: RegExp, from = 0, timeoutMs = 30_000): Promise<{ line: string; index: number }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const index = this.stdout.findIndex((l, i) => i >= from && match.test(l))
        if (index < 0) return false
        this.waiters = this.waiters.filter(w => w !== waiter)
        clearTimeout(timer)
        resolve({ line: this.stdout[index]!, index })
        return true
      }
      const waiter = (): void => {
        check()
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== waiter)
        reject(new Error(`no line matching ${match} within ${timeoutMs} ms; stdout tail:\n${this.stdout.slice(-8).join('\n')}\nstderr:\n${this.stderr.join('\n')}`))
      }, timeoutMs)
      if (!check()) this.waiters.push(waiter)
    })
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }
}
