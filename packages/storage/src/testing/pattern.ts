/** Deterministic bytes (xorshift32) that differ at every offset and seed: a shifted, spliced or truncated copy shows. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
