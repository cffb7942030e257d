// Assertions for the contract cases: no test framework, so a backend in another package can
// run them under any runner. Each throws an Error saying what differed.
import { TandemError } from '@tandem/protocol'

export interface ContractResult {
  name: string
  ok: boolean
  error?: unknown
}

/** Runs every case in turn; never throws: each result says whether its case passed. */
export async function runCases<A extends unknown[]>(cases: ReadonlyArray<{ name: string; run(...args: A): Promise<void> }>, ...args: A): Promise<ContractResult[]> {
  const results: ContractResult[] = []
  for (const c of cases) {
    try {
      await c.run(...args)
      results.push({ name: c.name, ok: true })
    } catch (error) {
      results.push({ name: c.name, ok: false, error })
    }
  }
  return results
}

/** A backend open for the length of a case; `reopen()` restarts it, and `current` is the new one after. */
export interface BackendSession<T> {
  readonly current: T
  reopen(): Promise<T>
}

/** Runs `body` on a new backend and closes whichever one is open at the end (a failed case's own error wins over a failed close). */
export async function withBackend<T extends { close(): Promise<void> }>(
  open: () => Promise<T>,
  reopen: (backend: T) => Promise<T>,
  body: (session: BackendSession<T>) => Promise<void>
): Promise<void> {
  let current = await open()
  const session: BackendSession<T> = {
    get current() {
      return current
    },
    reopen: async () => {
      current = await reopen(current)
      return current
    }
  }
  let failed = false
  try {
    await body(session)
  } catch (err) {
    failed = true
    throw err
  } finally {
    await current.close().catch((err: unknown) => {
      if (!failed) throw err
    })
  }
}

export function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message)
}

/** Equal as JSON with sorted keys (numbers, strings, null, arrays, plain objects; not bytes: see sameBytes). */
export function same(actual: unknown, expected: unknown, what: string): void {
  const a = canonical(actual)
  const e = canonical(expected)
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`)
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v
  )

export function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array, what: string): void {
  if (!(actual instanceof Uint8Array)) throw new Error(`${what}: got ${actual === undefined ? 'undefined' : typeof actual}, not bytes`)
  if (actual.byteLength !== expected.byteLength) throw new Error(`${what}: ${actual.byteLength} bytes, ${expected.byteLength} expected`)
  for (let i = 0; i < actual.byteLength; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: byte ${i} is ${actual[i]}, ${expected[i]} expected`)
  }
}

/** `promise` must reject with a TandemError of `code` (the wire's stable code for it). */
export async function rejectsWith(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  let result: unknown
  try {
    result = await promise
  } catch (err) {
    if (err instanceof TandemError && err.code === code) return
    throw new Error(`${what}: rejected with ${err instanceof TandemError ? err.code : String(err)}, not ${code}`)
  }
  throw new Error(`${what}: accepted (${JSON.stringify(result)}), not refused with ${code}`)
}

/** `promise` must reject (with anything). */
export async function rejects(promise: Promise<unknown>, what: string): Promise<void> {
  try {
    await promise
  } catch {
    return
  }
  throw new Error(`${what}: accepted, not refused`)
}
