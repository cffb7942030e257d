/**
 * Per account: commits of its docs' blobs run side by side, and a change to its device chain
 * runs alone. So the epoch a commit was checked against is still the account's newest when
 * the commit lands: nothing sealed in an old key generation is appended after a revocation
 * that started a new one (the simulator found the window between the check at an upload's
 * first chunk and its commit: 114 of 1,000 seeds).
 */
export class EpochGate {
  private readonly accounts = new Map<string, AccountGate>()

  /** Runs `fn` beside the account's other commits, never during a change to its chain. */
  async shared<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    const gate = this.gate(accountId)
    try {
      while (gate.writing !== null) await gate.writing
      gate.readers++
      try {
        return await fn()
      } finally {
        gate.readers--
        if (gate.readers === 0) gate.drained?.()
      }
    } finally {
      this.release(accountId, gate)
    }
  }

  /** Runs `fn` once the account's commits under way are done, holding new ones until it is. */
  async exclusive<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    const gate = this.gate(accountId)
    try {
      while (gate.writing !== null) await gate.writing
      const done = Promise.withResolvers<void>()
      gate.writing = done.promise
      try {
        if (gate.readers > 0)
          await new Promise<void>(resolve => {
            gate.drained = resolve
          })
        gate.drained = null
        return await fn()
      } finally {
        gate.writing = null
        done.resolve()
      }
    } finally {
      this.release(accountId, gate)
    }
  }

  /** The account's gate, counted as in use until {@link release}. */
  private gate(accountId: string): AccountGate {
    let gate = this.accounts.get(accountId)
    if (gate === undefined) {
      gate = { users: 0, readers: 0, writing: null, drained: null }
      this.accounts.set(accountId, gate)
    }
    gate.users++
    return gate
  }

  /** An account's gate goes once nobody runs or waits on it: the map holds only accounts with work under way. */
  private release(accountId: string, gate: AccountGate): void {
    if (--gate.users === 0) this.accounts.delete(accountId)
  }
}

interface AccountGate {
  /** Callers running or waiting. */
  users: number
  readers: number
  writing: Promise<void> | null
  drained: (() => void) | null
}
