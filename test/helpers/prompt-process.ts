import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { DEVICE_MAIN } from './device-process.js'

/**
 * `tandem-device` as a person runs it (no --control): lines typed on its stdin, its stdout and
 * stderr read line by line. Every wait is bounded; `kill()` always reaps it. With `tty`, it
 * runs on a pseudo-terminal (util-linux `script`), as at a person's terminal: keys typed go
 * through the terminal, and `raw` is everything it drew, escape sequences included (stderr
 * comes there too).
 */
export class PromptProcess {
  readonly stdout: string[] = []
  readonly stderr: string[] = []
  /** Everything written to stdout, as written. */
  raw = ''
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  private waiters: Array<() => void> = []

  constructor(args: string[], options: { tty?: boolean } = {}) {
    const command = [process.execPath, DEVICE_MAIN, ...args]
    this.child =
      options.tty === true
        ? spawn('script', ['--quiet', '--flush', '--return', '--command', command.map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' '), '/dev/null'], {
            stdio: ['pipe', 'pipe', 'pipe']
          })
        : spawn(process.execPath, [DEVICE_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.raw += chunk.toString('utf8')
      for (const w of [...this.waiters]) w()
    })
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

  /** Keys pressed, as they are (no Enter unless they hold \r). */
  keys(text: string): void {
    this.child.stdin!.write(text)
  }

  /** Where in `raw`, from `from` on, `match` first matches (seen or to come), and the text it matched; rejects after `timeoutMs`. */
  waitRaw(match: RegExp, from = 0, timeoutMs = 30_000): Promise<{ text: string; index: number; end: number }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = match.exec(this.raw.slice(from))
        if (found === null) return false
        this.waiters = this.waiters.filter(w => w !== waiter)
        clearTimeout(timer)
        resolve({ text: found[0], index: from + found.index, end: from + found.index + found[0].length })
        return true
      }
      const waiter = (): void => {
        check()
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== waiter)
        reject(new Error(`no output matching ${match} within ${timeoutMs} ms; output tail:\n${JSON.stringify(this.raw.slice(-600))}`))
      }, timeoutMs)
      if (!check()) this.waiters.push(waiter)
    })
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
