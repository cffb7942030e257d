import * as Y from 'yjs'

/** Doc id of an account's own doc. */
export const accountDocId = (accountId: string): string => `account:${accountId}`

export interface DeviceEntry {
  peerId: string
  name: string
  createdAt: number
  /** The device certificate, as encoded by @tandem/protocol. */
  certificate: Uint8Array
}

export interface ChatEntry {
  chatId: string
  title: string
  createdAt: number
  archived: boolean
  muted: boolean
  pinned: boolean
}

/**
 * Typed view of the account doc: profile, device list, chat list. Each chat
 * entry is its own Y.Map so that muting on one device and pinning on another
 * merge field by field.
 */
export class AccountDoc {
  readonly profile: Y.Map<unknown>
  readonly devices: Y.Map<DeviceEntry>
  readonly chats: Y.Map<Y.Map<unknown>>
  /** Revoked devices: peer id → revocation time. One-way: an entry is never removed. */
  readonly revoked: Y.Map<number>

  constructor(readonly doc: Y.Doc) {
    this.profile = doc.getMap('profile')
    this.devices = doc.getMap('devices')
    this.chats = doc.getMap('chats')
    this.revoked = doc.getMap('revoked')
  }

  /** The account's name, or null when the profile has none (not received yet). */
  get name(): string | null {
    const name = this.profile.get('name')
    return typeof name === 'string' ? name : null
  }

  setName(name: string): void {
    this.profile.set('name', name)
  }

  putDevice(entry: DeviceEntry): void {
    this.devices.set(entry.peerId, entry)
  }

  listDevices(): DeviceEntry[] {
    return [...this.devices.values()].sort((a, b) => a.createdAt - b.createdAt || (a.peerId < b.peerId ? -1 : 1))
  }

  addChat(entry: ChatEntry): void {
    const map = new Y.Map<unknown>()
    for (const [k, v] of Object.entries(entry)) if (k !== 'chatId') map.set(k, v)
    this.chats.set(entry.chatId, map)
  }

  updateChat(chatId: string, patch: Partial<Omit<ChatEntry, 'chatId' | 'createdAt'>>): boolean {
    const map = this.chats.get(chatId)
    if (map === undefined) return false
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(patch)) map.set(k, v)
    })
    return true
  }

  getChat(chatId: string): ChatEntry | null {
    const map = this.chats.get(chatId)
    if (!(map instanceof Y.Map)) return null
    return {
      chatId,
      title: String(map.get('title') ?? ''),
      createdAt: Number(map.get('createdAt') ?? 0),
      archived: map.get('archived') === true,
      muted: map.get('muted') === true,
      pinned: map.get('pinned') === true
    }
  }

  chatIds(): string[] {
    return [...this.chats.keys()]
  }

  listChats(): ChatEntry[] {
    const out: ChatEntry[] = []
    for (const id of this.chats.keys()) {
      const c = this.getChat(id)
      if (c !== null) out.push(c)
    }
    return out.sort((a, b) => Number(b.pinned) - Number(a.pinned) || a.createdAt - b.createdAt || (a.chatId < b.chatId ? -1 : 1))
  }
}
