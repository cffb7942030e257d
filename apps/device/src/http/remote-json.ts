import type { RemoteErrorBody } from '@tandem/engine/remote'

/** A thrown error as it travels: its stable code (ERR_INTERNAL when it has none) and its sentence. */
export function errorBody(err: unknown): RemoteErrorBody {
  const code = (err as { code?: unknown })?.code
  return { code: typeof code === 'string' && code.startsWith('ERR_') ? code : 'ERR_INTERNAL', message: (err as Error)?.message ?? String(err) }
}

/**
 * A value as plain JSON: every Uint8Array as base64 and every Error as a RemoteErrorBody
 * (JSON.stringify would give `{"0":1,…}` and `{}`), functions dropped, the rest as is.
 */
export function toRemote(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof Error) return errorBody(value)
  if (Array.isArray(value)) return value.map(toRemote)
  if (value === undefined) return null
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'function' && v !== undefined) out[k] = toRemote(v)
  return out
}
