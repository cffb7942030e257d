import type { RemoteErrorBody } from '@tandem/engine/remote'
import { toBase64 } from 'lib0/buffer'

/**
 * A value as it travels the remote device's wire (packages/engine/src/remote/remote-api.ts):
 * every Error as a `RemoteErrorBody`, every Uint8Array as base64, the rest as JSON has it.
 * The in-page device hands the UI the same shapes, so the UI is written once for both.
 */
export type Wire<T> = T extends Error
  ? RemoteErrorBody
  : T extends Uint8Array
    ? string
    : T extends (...args: never[]) => unknown
      ? never
      : T extends Array<infer E>
        ? Array<Wire<E>>
        : T extends object
          ? { [K in keyof T]: Wire<T[K]> }
          : T

/** An error as a sentence and a stable code (ERR_UNKNOWN when it carries none). */
export const errorBody = (error: unknown): RemoteErrorBody => {
  const e = error as { code?: unknown; message?: unknown }
  return { code: typeof e?.code === 'string' ? e.code : 'ERR_UNKNOWN', message: typeof e?.message === 'string' ? e.message : String(error) }
}

/** `value` in its wire shape (a deep copy only where something changes: errors and bytes). */
export function toWire<T>(value: T): Wire<T> {
  if (value instanceof Error) return errorBody(value) as Wire<T>
  if (value instanceof Uint8Array) return toBase64(value) as Wire<T>
  if (Array.isArray(value)) return value.map(toWire) as Wire<T>
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toWire(v)
    return out as Wire<T>
  }
  return value as Wire<T>
}
