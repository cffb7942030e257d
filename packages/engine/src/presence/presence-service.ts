import { chatDocId, chatIdOfDoc, parseDocId } from '@tandem/protocol'
import type { EventHub } from '../core/event-hub.js'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import { ChatAwareness, type PresenceEntry } from './chat-awareness.js'

/** A device renews its state this often while it shows a chat or types in it. */
export const RENEW_MS = 2_000
/** A device not heard from for this long is gone: it stops showing as typing and as online. */
export const PRESENCE_TIMEOUT_MS = 5_000
/** Typing stops by itself this long after the last `setTyping(chatId, true)` (an app calls it as keys are pressed). */
export const TYPING_MS = 6_000
/** How often the timeouts are checked while anything is live. */
const TICK_MS = 1_000

/** What the presence service reads of the engine. */
export interface PresenceHost {
  accountId(): string | null
  /** Whether the account has this chat. */
  hasChat(chatId: string): boolean
  /** Sends an awareness update of a chat doc, sealed, through the relays and the LAN. */
  send(docId: string, update: Uint8Array): Promise<boolean>
}

/**
 * Typing and presence per chat through y-protocols awareness (one per chat, see
 * ChatAwareness), sealed and sent like the app's ephemeral data (relays and LAN), never
 * written to a doc or the store. A device says something in a chat only while the app says it
 * shows the chat (`setPresent`) or types in it (`setTyping`): nothing is sent for the other
 * chats. A device that vanishes is dropped within PRESENCE_TIMEOUT_MS (+ a tick) by every
 * other device, on the injected clock; one that stops says so at once.
 */
export class PresenceService {
  private readonly chats = new Map<string, ChatAwareness>()
  private readonly present = new Set<string>()
  /** Chats this device types in: when the last `setTyping(true)` came. */
  private readonly typingSince = new Map<string, number>()
  private timer: TimerHandle | null = null
  /** Sends on their way (sealing): `stop` lets the last ones out before the network goes. */
  private readonly sending = new Set<Promise<unknown>>()

  constructor(
    private readonly host: PresenceHost,
    private readonly runtime: Runtime,
    private readonly events: EventHub,
    private readonly peerId: string
  ) {}

  /** This device types in the chat (`on`), or stopped; typing also stops by itself TYPING_MS after the last `true`. */
  setTyping(chatId: string, on: boolean): void {
    this.check(chatId, on)
    if (on) this.typingSince.set(chatId, this.runtime.now())
    else this.typingSince.delete(chatId)
    this.update(chatId)
  }

  /** This device shows the chat now (`on`: its person is there, online in it), or no longer. */
  setPresent(chatId: string, on: boolean): void {
    this.check(chatId, on)
    if (on) this.present.add(chatId)
    else this.present.delete(chatId)
    this.update(chatId)
  }

  /** The devices heard from in a chat since start (not this one): online now, typing, or when last seen. */
  presence(chatId: string): PresenceEntry[] {
    if (typeof chatId !== 'string' || !this.host.hasChat(chatId)) throw new UnknownChatError(String(chatId))
    return this.chats.get(chatId)?.entries() ?? []
  }

  /** An awareness update another device sent for a doc (opened and verified by the EphemeralChannel). */
  received(docId: string, from: string, update: Uint8Array): void {
    const chatId = parseDocId(docId)?.kind === 'chat' ? chatIdOfDoc(docId) : null
    if (chatId === null || !this.host.hasChat(chatId)) return
    try {
      this.chat(chatId).apply(update, from)
    } catch {
      // (sealed by a device of the account: a malformed one is a bug there, never shown)
      return
    }
    this.schedule()
  }

  /**
   * Leaves every chat (the others see this device go at once: called before the network
   * goes), forgets the others, and stops the timer. The app says again what it shows after
   * the device comes back.
   */
  async stop(): Promise<void> {
    for (const c of this.chats.values()) c.destroy()
    this.chats.clear()
    this.present.clear()
    this.typingSince.clear()
    if (this.timer !== null) this.runtime.clearTimeout(this.timer)
    this.timer = null
    await Promise.allSettled([...this.sending])
  }

  private check(chatId: string, on: boolean): void {
    if (typeof chatId !== 'string') throw new InvalidArgumentError('chat id must be a string')
    if (typeof on !== 'boolean') throw new InvalidArgumentError('on must be a boolean')
    if (!this.host.hasChat(chatId)) throw new UnknownChatError(chatId)
  }

  private update(chatId: string): void {
    const account = this.host.accountId()
    if (account === null) return
    const typing = this.typingSince.has(chatId)
    const state = this.present.has(chatId) || typing ? { a: account, d: this.peerId, t: typing } : null
    this.chat(chatId).setLocal(state)
    this.schedule()
  }

  private chat(chatId: string): ChatAwareness {
    let c = this.chats.get(chatId)
    if (c === undefined) {
      const docId = chatDocId(chatId)
      c = new ChatAwareness(
        this.clientId(),
        () => this.runtime.now(),
        update => {
          const sent = this.host.send(docId, update).catch((error: unknown) => {
            this.events.emit({ type: 'error', error: error as Error })
          })
          this.sending.add(sent)
          void sent.finally(() => this.sending.delete(sent))
        },
        {
          typing: (account, device, typing) => {
            this.events.emit({ type: 'typing', chatId, account, device, typing })
          },
          presence: entry => {
            this.events.emit({ type: 'presence', chatId, ...entry })
          }
        }
      )
      this.chats.set(chatId, c)
    }
    return c
  }

  /** A fresh awareness client id for this run (y-protocols' ids are 32-bit). */
  private clientId(): number {
    const b = this.runtime.randomBytes(4)
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
  }

  private schedule(): void {
    if (this.timer !== null) return
    this.timer = this.runtime.setTimeout(() => {
      this.timer = null
      this.tick()
    }, TICK_MS)
  }

  private tick(): void {
    const now = this.runtime.now()
    for (const [chatId, since] of [...this.typingSince])
      if (now - since >= TYPING_MS) {
        this.typingSince.delete(chatId)
        this.update(chatId)
      }
    let live = false
    for (const c of this.chats.values()) if (c.tick(RENEW_MS, PRESENCE_TIMEOUT_MS)) live = true
    if (live) this.schedule()
  }
}
