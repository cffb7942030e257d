import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline'
import { Writable } from 'node:stream'
import { setLiveLine } from './say.js'

/**
 * The person at the terminal: one reader of stdin for the whole process (two readline
 * interfaces on one stdin would split its lines between them), with a queue of lines so a
 * script that pipes its answers in ahead of the questions gets each one used in order.
 * A secret is read without echo when stdin is a terminal. On a terminal the chat prompt is
 * readline's own, so a line printed meanwhile (a message, "Bob is typing…" in the prompt) is
 * drawn above the line being typed, which readline then draws again as it was.
 */
export class Terminal {
  private readonly rl: Interface
  private readonly queued: string[] = []
  private waiting: ((line: string | null) => void) | null = null
  private muted = false
  private closed = false
  /** The chat prompt is up, waiting for a line typed at a terminal. */
  private prompting = false
  /** What the chat prompt says before its "> " ("Bob is typing…"), if anything. */
  private status: string | null = null

  constructor() {
    // readline echoes what is typed to its output: this one stays silent while a secret is typed
    const output = new Writable({
      write: (chunk, _encoding, done) => {
        if (!this.muted) process.stdout.write(chunk)
        done()
      }
    })
    this.rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true })
    if (this.tty) {
      setLiveLine({
        clear: () => {
          if (!this.prompting) return
          clearLine(process.stdout, 0)
          cursorTo(process.stdout, 0)
        },
        redraw: () => {
          if (this.prompting) this.rl.prompt(true)
        }
      })
    }
    this.rl.on('line', line => {
      this.prompting = false
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
    this.prompting = false
    process.stdout.write(prompt)
    const line = await this.nextLine()
    // a piped answer is not echoed by a terminal: show it, so a scripted run reads as a typed one
    if (process.stdin.isTTY !== true) process.stdout.write(`${line ?? ''}\n`)
    return line
  }

  private get tty(): boolean {
    return process.stdin.isTTY === true
  }

  /** The chat prompt's "> " (after the status, if any), on a terminal only (piped input reads as lines of output without it). */
  prompt(): void {
    if (!this.tty) return
    this.prompting = true
    this.rl.setPrompt(this.status === null ? '> ' : `${this.status} > `)
    this.rl.prompt()
  }

  /** Calls `listener` with the line as it stands after each key pressed at the chat prompt (at a terminal only: a pipe gives whole lines). */
  onEdit(listener: (line: string) => void): void {
    if (!this.tty) return
    // readline's own keypress listener came first: the line already holds the key
    process.stdin.on('keypress', () => {
      if (this.prompting) listener(this.rl.line)
    })
  }

  /**
   * What the chat prompt says before its "> " (null: nothing), redrawn at once with the line
   * being typed and the cursor where they were. On a terminal only: piped input has no prompt.
   */
  setStatus(status: string | null): void {
    if (!this.tty || status === this.status) return
    this.status = status
    this.rl.setPrompt(status === null ? '> ' : `${status} > `)
    if (this.prompting) {
      clearLine(process.stdout, 0)
      cursorTo(process.stdout, 0)
      this.rl.prompt(true)
    }
  }

  /** A passphrase: not echoed on a terminal. */
  async secret(prompt: string): Promise<string | null> {
    this.prompting = false
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
