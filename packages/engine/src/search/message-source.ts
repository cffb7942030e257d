import { chatIdOfDoc, parseDocId } from '@tandem/protocol'
import type { ChatService } from '../chat/chat-service.js'
import type { ChatViews } from '../chat/chat-views.js'
import type { SegmentLoader } from '../chat/segment-loader.js'
import { segmentDocOf } from '../chat/chat-views.js'
import type { MessageLog } from '../model/message-log.js'
import type { Message } from '../model/message.js'
import type { DocHost } from '../store/doc-host.js'
import type { IndexedMessage } from './message-index.js'

/** What a chat or segment doc holds now: its messages (latest edits) and the ids deleted there for everyone. */
export interface DocMessages {
  chatId: string
  messages: IndexedMessage[]
  deleted: string[]
}

/** Where the search service reads messages from: the docs in memory, or from disk when they are not. */
export interface MessageSource {
  /** A doc's messages, or null when it cannot be read now (its chat doc is not open). */
  readDoc(docId: string): Promise<DocMessages | null>
  /** One message as the index keeps it, or null when it is gone. */
  message(chatId: string, id: string): Promise<IndexedMessage | null>
  /** One message as the API shows it, or null when it is gone. */
  shown(chatId: string, id: string): Promise<Message | null>
  /** The chat is this account's (open on this device, or listed and opening). */
  hasChat(chatId: string): boolean
  /** Every chat and segment doc this device keeps, in memory or on disk: what a rebuild reads. */
  keptDocs(): string[]
}

/**
 * The MessageSource over the engine's chats: a doc in memory is read there; one on disk is
 * opened for the read and handed back to the segment loader, which takes it out of memory
 * again unless a person is looking at it (a rebuild reads every segment of every chat).
 */
export function engineMessageSource(docs: DocHost, views: ChatViews, loader: SegmentLoader, chats: ChatService): MessageSource {
  const withLog = async <T>(docId: string, read: (log: MessageLog, chatId: string) => T): Promise<T | null> => {
    const chatId = chatIdOfDoc(docId)
    if (chatId === null) return null
    let log = views.log(docId)
    const opened = log === undefined
    if (log === undefined) {
      if (views.get(chatId) === undefined) return null // (its chat doc is not open: a segment that came early)
      await docs.open(docId)
      log = views.log(docId)
      if (log === undefined) return null
    }
    const out = read(log, chatId)
    const ref = parseDocId(docId)
    const view = views.get(chatId)
    if (opened && ref?.kind === 'segment' && view !== undefined) void loader.release(view, ref.index)
    return out
  }
  return {
    readDoc: docId =>
      withLog(docId, (log, chatId) => ({
        chatId,
        messages: log.records().map(r => ({ id: r.id, chatId, text: log.annotations.editOf(r.id)?.text ?? r.text, wall: r.wall, counter: r.counter })),
        deleted: [...log.annotations.deleted.keys()]
      })),
    message: async (chatId, id) => {
      const found = await withLog(segmentDocOf(chatId, id), log => {
        const r = log.record(id)
        return r === null ? null : { id, chatId, text: log.annotations.editOf(id)?.text ?? r.text, wall: r.wall, counter: r.counter }
      })
      return found ?? null
    },
    shown: async (chatId, id) => {
      try {
        return await chats.getMessage(chatId, id)
      } catch {
        return null // deleted (or its chat gone) since it was indexed
      }
    },
    hasChat: chatId => {
      if (views.get(chatId) !== undefined) return true
      try {
        return chats.listChats().some(c => c.chatId === chatId) // (listed, its doc still opening: nothing to find yet)
      } catch {
        return false // (no account yet)
      }
    },
    keptDocs: () => docs.knownIds().filter(id => chatIdOfDoc(id) !== null)
  }
}
