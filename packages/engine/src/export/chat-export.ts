import type { ChatEntry } from '../model/account-doc.js'
import type { Message } from '../model/message.js'
import type { Reaction } from '../model/message-annotations.js'

/** The formats `engine.exportChat` writes. */
export type ExportFormat = 'json' | 'html'

/** Version of the JSON export's shape: a reader checks it (fields are only ever added within one version). */
export const CHAT_EXPORT_VERSION = 1

/** One message of an export. */
export interface ExportedMessage {
  id: string
  /** The sender's account id, and its profile name when this device knows it (null otherwise). */
  author: { accountId: string; name: string | null }
  /** The device it was sent from: peer id, and its name when this device knows it. */
  device: { peerId: string; name: string | null }
  /** Send time (the hybrid logical clock's wall time), ISO 8601 in UTC. */
  time: string
  text: string
  edited: boolean
  reactions: Reaction[]
}

/** A chat as `exportChat(chatId, { format: 'json' })` writes it (JSON text of this). */
export interface ChatExport {
  format: 'tandem-chat-export'
  version: typeof CHAT_EXPORT_VERSION
  /** When the export was made, ISO 8601. */
  exportedAt: string
  chat: { id: string; title: string; createdAt: string }
  /** Every message in display order (the same on every device: send clock, then id), oldest first. */
  messages: ExportedMessage[]
}

/** Names this device knows: of accounts (their profiles) and of devices (the account's device list). */
export interface ExportNames {
  account(accountId: string): string | null
  device(peerId: string): string | null
}

/** The export of a chat's messages (all of them, in display order). */
export function buildChatExport(chat: ChatEntry, messages: readonly Message[], names: ExportNames, now: number): ChatExport {
  return {
    format: 'tandem-chat-export',
    version: CHAT_EXPORT_VERSION,
    exportedAt: isoTime(now),
    chat: { id: chat.chatId, title: chat.title, createdAt: isoTime(chat.createdAt) },
    messages: messages.map(m => ({
      id: m.id,
      author: { accountId: m.author, name: names.account(m.author) },
      device: { peerId: m.device, name: names.device(m.device) },
      time: isoTime(m.timestamp.wall),
      text: m.text,
      edited: m.edited,
      reactions: m.reactions
    }))
  }
}

/** ISO 8601 of a wall time; a clock outside what Date can show (a bad record) as the epoch rather than a throw. */
export function isoTime(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString()
}
