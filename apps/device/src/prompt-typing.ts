import type { Engine } from '@tandem/engine'
import type { Names } from './cli/chat-view.js'
import type { Terminal } from './terminal.js'

/**
 * "Bob is typing…" in the chat prompt while another member types in the open chat, gone when
 * they stop, or vanish (the engine says so within a few seconds). Read from the engine's
 * presence of the open chat at each typing or presence event, and when another chat opens.
 * Returns what to call when the open chat changes.
 */
export function showTyping(engine: Engine, term: Terminal, names: () => Names, openChat: () => string | null): () => void {
  const refresh = (): void => term.setStatus(typingLine(engine, names(), openChat()))
  engine.subscribe(e => {
    if ((e.type === 'typing' || e.type === 'presence') && e.chatId === openChat()) refresh()
  })
  return refresh
}

/** How often typing is said again while keys are pressed: the engine's typing runs out 6 s after the last call (as the web app's composer). */
const TYPING_RENEW_MS = 2_000

/**
 * The other side of it: while the person types a line for the open chat at the terminal (not
 * a /command), its other members see this device typing; it stops when the line is cleared or
 * sent. Returns what to call when a line was taken.
 */
export function sayTyping(engine: Engine, term: Terminal, openChat: () => string | null): () => void {
  let typingIn: string | null = null
  let saidAt = 0
  const typing = (on: boolean): void => {
    const chat = on ? openChat() : typingIn
    if (chat === null || (on && chat === typingIn && Date.now() - saidAt < TYPING_RENEW_MS)) return
    if (on && typingIn !== null && typingIn !== chat) typing(false)
    typingIn = on ? chat : null
    saidAt = on ? Date.now() : 0
    try {
      engine.setTyping(chat, on)
    } catch {
      // the chat is gone (left, or the account revoked): nothing to say there
    }
  }
  term.onEdit(line => typing(line.trim() !== '' && !line.startsWith('/')))
  return () => typing(false)
}

/** "Bob is typing…", "Bob and Carol are typing…", "Bob, Carol and Dan are typing…"; null when nobody else types. */
export function typingLine(engine: Engine, names: Names, chatId: string | null): string | null {
  if (chatId === null) return null
  let entries: ReturnType<Engine['presence']>
  try {
    entries = engine.presence(chatId)
  } catch {
    return null // the chat is gone (left, or the account revoked)
  }
  const typers = [...new Set(entries.filter(p => p.typing && p.account !== engine.accountId).map(p => names.of(p.account)))]
  if (typers.length === 0) return null
  if (typers.length === 1) return `${typers[0]} is typing…`
  return `${typers.slice(0, -1).join(', ')} and ${typers.at(-1)} are typing…`
}
