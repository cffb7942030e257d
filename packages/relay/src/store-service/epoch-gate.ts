/**
 * Per account: commits of its docs' blobs run side by side, and a change to its device chain
 * runs alone. So the epoch a commit was checked against is still the account's newest when
 * the commit lands: nothing sealed in an old key generation is appended after a revocation
 * that started a new one (the simulator found the window between the check at an upload's
 * first chunk and its commit: 114 of 1,000 seeds). A shared chat's commit holds every member
 * account's chain (its floor reads them all), from its last chunk, before it is passed on
 * live, to its commit (SessionUploads).
 */
export class EpochGate {
  private readonly accounts = new Map<string, AccountGate>()

  /** Runs `fn` beside the account's other commits, never during a change to its chain. */
  async shared<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    const leave = await this.enter([accountId])
    try {
      return await fn()
    } finally {
      leave()
    }
  }

  /**
   * Takes a place beside the commits of every account named (its chain is held still until the
   * returned function is called, which must be called once). A shared chat's floor depends on
   * every member account's chain, so its commits hold them all; taken in one order (sorted), so
   * that two such holds never wait on each other through two chain changes.
   */
  async enter(accountIds: readonly string[]): Promise<() => void> {
    const held: Array<[string, AccountGate]> = []
    for (const accountId of [...new Set(accountIds)].sort()) {
      const gate = this.gate(accountId)
      while (gate.writing !== null) await gate.writing
      gate.readers++
      held.push([accountId, gate])
    }
    let left = false
    return () => {
      if (left) return
      left = true
      for (const [accountId, gate] of held) {
        gate.readers--
        if (gate.readers === 0) gate.drained?.()
        this.release(accountId, gate)
      }
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
