import type { Engine, Message } from '@tandem/engine'
import { formatMessage, type Names, TICKS } from './cli/chat-view.js'
import { say } from './say.js'

/**
 * What arrives while the prompt runs: another's message (with its chat's title when that
 * chat is not the open one), many at once as a count, the ticks of this account's own as
 * they advance, and a revocation. Connections and relays stay quiet (`status` is in /devices).
 */
export function showLiveEvents(engine: Engine, names: () => Names, openChat: () => string | null): void {
  const title = (chatId: string): string => engine.listChats().find(c => c.chatId === chatId)?.title ?? chatId.slice(0, 8)
  const where = (chatId: string): string => (chatId === openChat() ? '' : `[${title(chatId)}] `)
  const shown = new Set<string>() // a status is said once per message, whichever member's receipt completed it
  engine.subscribe(e => {
    if (e.type === 'message' && e.origin === 'remote') {
      say(`${where(e.chatId)}${formatMessage(e.message, names())}`)
      // shown in the open chat is read: the sender's ticks say so
      if (e.chatId === openChat() && e.message.author !== engine.accountId) void engine.markRead(e.chatId, e.message.id).catch(() => {})
    } else if (e.type === 'messages') say(`${where(e.chatId)}(${e.count} ${e.count === 1 ? 'message' : 'messages'} arrived)`)
    else if (e.type === 'status') {
      for (const id of e.messageIds) {
        const m = find(engine, e.chatId, id)
        if (m === null || m.author !== engine.accountId || m.status !== e.status || shown.has(`${id} ${e.status}`)) continue
        shown.add(`${id} ${e.status}`)
        say(`${where(e.chatId)}${e.status === 'read' ? TICKS.read : `${TICKS[e.status]} ${e.status}`}: "${m.text.length > 40 ? `${m.text.slice(0, 40)}…` : m.text}"`)
      }
    } else if (e.type === 'revoked') say('This device was revoked from the account by another of its devices: its data is erased.')
  })
}

/** The message as it is now, if it is in memory (a status may name older ones not loaded). */
function find(engine: Engine, chatId: string, id: string): Message | null {
  try {
    return engine.listMessages(chatId, { limit: 50 }).find(m => m.id === id) ?? null
  } catch {
    return null
  }
}
