import type { LinkConfirmation } from '@tandem/engine'

/**
 * The person's answer to "does the new device show these six digits?", asked of whoever drives
 * this device (a `--control` script, an `--http` page): the engine's confirm callback cannot
 * travel, so it becomes a question out and an answer in. One question at a time: a second
 * link is declined while one waits; a linking session that ends first closes the question.
 */
export class LinkQuestion {
  private pending: { resolve: (ok: boolean) => void } | null = null

  constructor(
    private readonly out: {
      /** Ask the person (the digits, and who asks). */
      asked(info: Omit<LinkConfirmation, 'signal'>): void
      /** The session ended before an answer came. */
      closed(peerId: string): void
    }
  ) {}

  /** The engine's confirm callback. */
  readonly ask = ({ signal, ...info }: LinkConfirmation): Promise<boolean> => {
    if (this.pending !== null) return Promise.resolve(false)
    return new Promise(resolve => {
      const pending = { resolve }
      this.pending = pending
      signal.addEventListener(
        'abort',
        () => {
          if (this.pending !== pending) return
          this.pending = null
          this.out.closed(info.peerId)
          resolve(false)
        },
        { once: true }
      )
      this.out.asked(info)
    })
  }

  /** The person's answer; false when no question waits. */
  answer(ok: boolean): boolean {
    const pending = this.pending
    if (pending === null) return false
    this.pending = null
    pending.resolve(ok)
    return true
  }
}
