import type { TandemError } from '@tandem/protocol'
import type { MessageChange } from './model/message-annotations.js'
import type { Message, MessageStatus } from './model/message.js'

/** Everything an app can observe; subscribe with `engine.subscribe(listener)`. */
export type EngineEvent =
  /** A message appeared in a chat: sent here (`local`) or synced from another device (`remote`). */
  | { type: 'message'; chatId: string; message: Message; origin: 'local' | 'remote' }
  /** Messages were edited, reacted to or deleted for everyone (read them again with `getMessage`; deleted ones are gone). */
  | { type: 'message-changed'; chatId: string; messageIds: string[]; change: MessageChange; origin: 'local' | 'remote' }
  /** A long chat's older segments coming in, newest first: `segmentsFetched` of `segments` are on this device. */
  | { type: 'history'; chatId: string; segmentsFetched: number; segments: number }
  /** Many messages arrived at once, or a segment of older ones came into memory (a new device's history, a long offline spell): list the chat again. */
  | { type: 'messages'; chatId: string; count: number; origin: 'remote' /** The segment they are in (0: a chat from before segments). */; segment: number }
  /**
   * The chat list changed (a chat was created, renamed, muted, pinned, its draft…), or what it
   * shows of some chats (`chatIds`: their last message, unread count or read watermark).
   */
  | { type: 'chats'; chatIds?: string[] }
  /** The contacts changed (an invite accepted here or by the other side). */
  | { type: 'contacts' }
  /** A chat between accounts has a new membership record: members added or removed, a new key epoch (`listMembers` says who). */
  | { type: 'members'; chatId: string }
  /**
   * This account was removed from a chat between accounts, by a member account `by` ("you were
   * removed from this group"): the chat stays in the list with its history, read-only (sending
   * to it is ERR_NOT_A_MEMBER), and this account's messages no relay took show `failed`.
   */
  | { type: 'removed'; chatId: string; by: string }
  /** The profile or the device list changed. */
  | { type: 'account' }
  /** A sync session with another device opened or closed. */
  | { type: 'peer'; peerId: string; status: 'connected' | 'disconnected' }
  /** A device was refused: not a listed device of the account, another account, bad frames. */
  | { type: 'refused'; peerId: string; error: TandemError }
  /**
   * Messages reached a new status: this account's own acked by a relay (`sent`, no `account`:
   * those this device sent, and those another device of the account sent that arrived here
   * before the relay held them), or a member `account`'s delivered or read watermark moved past
   * them (the loaded messages it covers now that are not that account's own). A message's
   * `sent` always comes before its `delivered`, and `delivered` before `read`. `failed`: this
   * account's messages no relay took before it was removed from the chat (final; see `removed`).
   * Read a message again for its overall status.
   */
  | { type: 'status'; chatId: string; messageIds: string[]; status: MessageStatus; account?: string }
  /** Catching up from a relay: entries and bytes done of the backlog it announced. */
  | { type: 'progress'; relay: string; entriesDone: number; entriesTotal: number; bytesDone: number; bytesTotal: number; caughtUp: boolean }
  /** The /tandem/store connection to a relay opened or closed. */
  | { type: 'relay'; relay: string; connected: boolean; error?: Error }
  /** A device started or stopped typing in a chat (it said so, its typing ran out, or it vanished: a few seconds). Never stored. */
  | { type: 'typing'; chatId: string; account: string; device: string; typing: boolean }
  /** A device came to a chat (`online`: it shows it now) or left it, said so or went silent (`lastSeen`: when last heard). Never stored. */
  | { type: 'presence'; chatId: string; account: string; device: string; online: boolean; typing: boolean; lastSeen: number }
  /** The app's own ephemeral data another device sent (`sendEphemeral`), through a relay or the LAN; never stored. */
  | { type: 'ephemeral'; docId: string; from: string; payload: Uint8Array }
  /** A doc found damaged in this device's store was fetched whole from a relay again (see `engine.storeDamage()`). */
  | { type: 'repaired'; docId: string; chatId: string | null }
  /** This device was revoked from its account (by another device, or by the recovery key): it stopped and erased the account's data. */
  | { type: 'revoked'; accountId: string }
  /**
   * A blob from a relay was not applied: it did not open or verify (ERR_DECRYPT, ERR_BAD_SIGNATURE,
   * a bad envelope), or it is sealed in a key generation this device does not hold yet
   * (ERR_UNKNOWN_EPOCH, `waiting`: it is kept and read once the key arrives). `total` counts them since start.
   */
  | { type: 'rejected'; docId: string; chatId: string | null; error: TandemError; waiting: boolean; total: number }
  /** Something failed that the engine survived (a store write, a relay refusal of one doc…). */
  | { type: 'error'; error: Error }

export type EngineListener = (event: EngineEvent) => void
