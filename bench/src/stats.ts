export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Runs `fn` `runs` times and returns the median of what it measures. */
export async function medianOf(runs: number, fn: () => Promise<number>): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < runs; i++) xs.push(await fn())
  return median(xs)
}

/** Nearest-rank percentile (p in 0..100). */
export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}
