// Made-up words from a seeded generator, and a scan for many of them at once.
import { Rng } from '../../sim/src/rng.js'

/** A seeded generator (the simulator's: pure-rand's xoroshiro128+), the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.float()
}

/** The seed of this run: TANDEM_SEED replays one; otherwise a fresh one (print it). */
export function runSeed(): number {
  const given = process.env.TANDEM_SEED
  return given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31)
}

// every syllable has a consonant past 'f', so no word is hex (hashes and ids on the relay are)
const CONSONANTS = 'klmnprstvz'
const VOWELS = 'aeiou'

/** `count` distinct made-up words of `syllables` syllables (consonant + vowel), lowercase. */
export function madeUpWords(random: () => number, count: number, syllables: number, avoid: ReadonlySet<string> = new Set()): string[] {
  const out = new Set<string>()
  while (out.size < count) {
    let w = ''
    for (let i = 0; i < syllables; i++) w += CONSONANTS[Math.floor(random() * CONSONANTS.length)]! + VOWELS[Math.floor(random() * VOWELS.length)]!
    if (!avoid.has(w)) out.add(w)
  }
  return [...out]
}

export const capitalized = (w: string): string => w[0]!.toUpperCase() + w.slice(1)

/**
 * Finds which of many needles (ASCII letters and digits only) occur in bytes: every run of
 * letters and digits is read, and each window of a needle's length looked up in a set — one
 * pass per needle length, whatever the number of needles.
 */
export class NeedleScan {
  private readonly byLength = new Map<number, Set<string>>()
  private readonly shortest: number

  constructor(needles: Iterable<string>) {
    for (const n of needles) {
      if (!/^[A-Za-z0-9]+$/.test(n)) throw new Error(`a needle must be letters and digits only: ${JSON.stringify(n)}`)
      let set = this.byLength.get(n.length)
      if (set === undefined) {
        set = new Set()
        this.byLength.set(n.length, set)
      }
      set.add(n)
    }
    this.shortest = Math.min(...this.byLength.keys())
  }

  /** The needles found in `bytes`, added to `into`. */
  findIn(bytes: Uint8Array, into = new Set<string>()): Set<string> {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
    const runs = new RegExp(`[A-Za-z0-9]{${this.shortest},}`, 'g')
    for (const m of text.matchAll(runs)) {
      const run = m[0]
      for (const [length, set] of this.byLength) {
        for (let i = 0; i + length <= run.length; i++) {
          const window = run.slice(i, i + length)
          if (set.has(window)) into.add(window)
        }
      }
    }
    return into
  }
}
