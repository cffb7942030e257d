/**
 * The workload's message text: ~100 characters of pseudo-words drawn with a
 * Zipf-like skew from a seeded vocabulary, so that text compresses about as
 * well as chat text does (a compressor gains ~2–3×, not the 50× it would on
 * one repeated line). Deterministic: message i of seed s is always the same.
 */
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'ta',
  'shi',
  'po',
  'de',
  'an',
  'el',
  'or',
  'un',
  'ri',
  'sa',
  'to',
  'be',
  'ma',
  'ke',
  'li',
  'gra',
  'tho',
  'ven',
  'qua',
  'sel',
  'mor',
  'din',
  'pha',
  'ex',
  'ju',
  'zo',
  'fa',
  'wi',
  'yo',
  'hu',
  'ce',
  'ba',
  'go',
  'ni',
  'st'
]

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const vocabulary: string[] = (() => {
  const rnd = mulberry32(7)
  const words = new Set<string>()
  while (words.size < 3000) {
    const n = 1 + Math.floor(rnd() * 3.2)
    let w = ''
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(rnd() * SYLLABLES.length)]
    words.add(w)
  }
  return [...words]
})()

/** Message text number `i` of a stream `seed`: 95–105 characters. */
export function messageText(seed: number, i: number): string {
  const rnd = mulberry32((seed * 1_000_003) ^ (i * 2_654_435_761))
  const target = 95 + Math.floor(rnd() * 11)
  let s = ''
  while (s.length < target) {
    const w = vocabulary[Math.floor(vocabulary.length * rnd() ** 2.5)]!
    s += s === '' ? w[0]!.toUpperCase() + w.slice(1) : ` ${w}`
  }
  return s.slice(0, target - 1) + (rnd() < 0.2 ? '?' : '.')
}

/** A random id like Tandem's message ids (12 bytes, hex). */
export function randomId(rnd: () => number = Math.random): string {
  let s = ''
  for (let i = 0; i < 24; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)]
  return s
}

/** An author id as long as a Tandem account id (33 characters), for the peers' messages. */
export function authorId(n: number): string {
  return `acct${n.toString(36)}`.padEnd(33, 'x')
}

export interface PeerMessage {
  id: string
  author: string
  text: string
  ts: number
}
