import type { TandemError } from '@tandem/protocol'
import type { Message } from './model/message.js'

/** Everything an app can observe; subscribe with `engine.subscribe(listener)`. */
export type EngineEvent =
  /** A message appeared in a chat: sent here (`local`) or synced from another device (`remote`). */
  | { type: 'message'; chatId: string; message: Message; origin: 'local' | 'remote' }
  /** The chat list changed (a chat was created, renamed, muted, pinned…). */
  | { type: 'chats' }
  /** The profile or the device list changed. */
  | { type: 'account' }
  /** A sync session with another device opened or closed. */
  | { type: 'peer'; peerId: string; status: 'connected' | 'disconnected' }
  /** A device was refused: no or bad certificate, another account, bad frames. */
  | { type: 'refused'; peerId: string; error: TandemError }
  /** A write to the store failed: the engine stops reporting writes as stored. */
  | { type: 'error'; error: Error }

export type EngineListener = (event: EngineEvent) => void
