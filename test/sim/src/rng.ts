import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'

/** A seeded random source; `child()` derives independent streams (network, workload, faults…). */
export class Rng {
  private readonly g: ReturnType<typeof xoroshiro128plus>

  constructor(readonly seed: number) {
    this.g = xoroshiro128plus(seed)
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.g, min, max)
  }

  /** Float in [0, 1). */
  float(): number {
    return this.int(0, 2 ** 30 - 1) / 2 ** 30
  }

  chance(p: number): boolean {
    return p > 0 && this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }

  /** Picks a key by weight. */
  weighted<K extends string>(table: Readonly<Record<K, number>>): K {
    const entries = Object.entries(table) as Array<[K, number]>
    const total = entries.reduce((s, [, w]) => s + w, 0)
    let x = this.float() * total
    for (const [k, w] of entries) {
      x -= w
      if (x < 0) return k
    }
    return entries[entries.length - 1]![0]
  }

  /** Exponentially distributed, with this mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255)
    return out
  }

  child(): Rng {
    return new Rng(this.int(0, 2 ** 31 - 1))
  }
}
