import type { EngineEvent, EngineListener } from '../events.js'

/** The app's listeners: every service reports through one hub, and a listener's bug never breaks sync. */
export class EventHub {
  private readonly listeners = new Set<EngineListener>()

  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  emit(event: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        /* a listener's bug must not break sync */
      }
    }
  }
}
