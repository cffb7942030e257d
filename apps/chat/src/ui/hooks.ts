import { createContext } from 'preact'
import { useContext, useEffect, useRef, useState } from 'preact/hooks'
import type { DeviceApi, DeviceEvent } from '../api/device-api.js'

/** The device the page drives, and how the page reports an error (in a sentence with its code). */
export interface DeviceContext {
  api: DeviceApi
  showError(error: unknown): void
  /** This account's id (null before it has one). */
  accountId: string | null
}

export const Device = createContext<DeviceContext>(null as unknown as DeviceContext)

export const useDevice = (): DeviceContext => useContext(Device)

/** Calls `listener` for each device event while the component is shown. */
export function useDeviceEvents(listener: (event: DeviceEvent) => void): void {
  const { api } = useDevice()
  const latest = useRef(listener)
  latest.current = listener
  useEffect(() => api.subscribe(event => latest.current(event)), [api])
}

/**
 * A value read from the device, read again when an event `affects` it. Reads that pile up
 * during a burst of events (a new device's history: thousands) coalesce: one read at a
 * time, and one more after it for whatever came meanwhile; and a read never overtakes an earlier one (results arrive in order).
 */
export function useQuery<T>(read: (api: DeviceApi) => Promise<T>, affects: (event: DeviceEvent) => boolean, deps: unknown[]): [T | undefined, () => void] {
  const { api, showError } = useDevice()
  const [value, setValue] = useState<T | undefined>(undefined)
  const state = useRef({ queued: false, running: false, again: false, alive: true })
  const reader = useRef(read)
  reader.current = read
  const refresh = useRef(() => {})
  refresh.current = () => {
    const s = state.current
    if (s.running) {
      s.again = true
      return
    }
    if (s.queued) return
    s.queued = true
    // a task, not an animation frame: a page in the background gets no frames, and its reads
    // (marking a chat read, say) must still happen
    setTimeout(() => {
      s.queued = false
      s.running = true
      reader
        .current(api)
        .then(
          v => {
            if (s.alive) setValue(v)
          },
          err => {
            if (s.alive) showError(err)
          }
        )
        .finally(() => {
          s.running = false
          if (s.again && s.alive) {
            s.again = false
            refresh.current()
          }
        })
    }, 0)
  }
  useEffect(() => {
    state.current = { queued: false, running: false, again: false, alive: true }
    setValue(undefined)
    refresh.current()
    const stop = api.subscribe(event => {
      if (affects(event)) refresh.current()
    })
    return () => {
      state.current.alive = false
      stop()
    }
  }, [api, ...deps])
  return [value, () => refresh.current()]
}

/** Runs `work` and reports its error; resolves true when it succeeded. */
export function useAction(): (work: () => Promise<unknown>) => Promise<boolean> {
  const { showError } = useDevice()
  return async work => {
    try {
      await work()
      return true
    } catch (err) {
      showError(err)
      return false
    }
  }
}
