import { createInterface, type Interface } from 'node:readline'
import { Writable } from 'node:stream'

/**
 * The person at the terminal: one reader of stdin for the whole process (two readline
 * interfaces on one stdin would split its lines between them), with a queue of lines so a
 * script that pipes its answers in ahead of the questions gets each one used in order.
 * A secret is read without echo when stdin is a terminal.
 */
export class Terminal {
  private readonly rl: Interface
  private readonly queued: string[] = []
  private waiting: ((line: string | null) => void) | null = null
  private muted = false
  private closed = false

  constructor() {
    // readline echoes what is typed to its output: this one stays silent while a secret is typed
    const output = new Writable({
      write: (chunk, _encoding, done) => {
        if (!this.muted) process.stdout.write(chunk)
        done()
      }
    })
    this.rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true })
    this.rl.on('line', line => {
      if (this.waiting !== null) {
        const w = this.waiting
        this.waiting = null
        w(line)
      } else this.queued.push(line)
    })
    this.rl.on('close', () => {
      this.closed = true
      this.waiting?.(null)
      this.waiting = null
    })
  }

  /** The next line typed (null once stdin is closed). */
  nextLine(): Promise<string | null> {
    const line = this.queued.shift()
    if (line !== undefined) return Promise.resolve(line)
    if (this.closed) return Promise.resolve(null)
    return new Promise(resolve => {
      this.waiting = resolve
    })
  }

  async question(prompt: string): Promise<string | null> {
    process.stdout.write(prompt)
    const line = await this.nextLine()
    // a piped answer is not echoed by a terminal: show it, so a scripted run reads as a typed one
    if (process.stdin.isTTY !== true) process.stdout.write(`${line ?? ''}\n`)
    return line
  }

  /** The chat prompt's "> ", on a terminal only (piped input reads as lines of output without it). */
  prompt(): void {
    if (process.stdin.isTTY === true) process.stdout.write('> ')
  }

  /** A passphrase: not echoed on a terminal. */
  async secret(prompt: string): Promise<string | null> {
    process.stdout.write(prompt)
    this.muted = true
    try {
      return await this.nextLine()
    } finally {
      this.muted = false
      process.stdout.write('\n')
    }
  }

  /** y or n (anything else asks again); null once stdin is closed. */
  async yesNo(prompt: string): Promise<boolean | null> {
    for (;;) {
      const answer = await this.question(prompt)
      if (answer === null) return null
      const a = answer.trim().toLowerCase()
      if (a === 'y' || a === 'yes') return true
      if (a === 'n' || a === 'no') return false
    }
  }

  /** Gives up the question being asked (it was answered elsewhere, or its session ended): the next line is the next question's. */
  abandon(): void {
    const w = this.waiting
    this.waiting = null
    w?.(null)
  }

  /** Calls `listener` once stdin is closed (Ctrl-D, or the end of piped input). */
  onClose(listener: () => void): void {
    if (this.closed) listener()
    else this.rl.once('close', listener)
  }

  close(): void {
    this.rl.close()
  }
}
