/** A relay-wide cap on bytes held in memory; callers give back what they took. */
export class ByteBudget {
  private taken = 0

  constructor(readonly limit: number) {}

  get used(): number {
    return this.taken
  }

  /** Takes `n` bytes if they fit; false (nothing taken) if not. */
  tryTake(n: number): boolean {
    if (this.taken + n > this.limit) return false
    this.taken += n
    return true
  }

  give(n: number): void {
    this.taken = Math.max(0, this.taken - n)
  }
}
