import type { ChatListEntry, Contact, Message, MessageStatus } from '@tandem/engine'
import { InvalidArgumentError } from '@tandem/engine'
import { when } from '../say.js'

/** What a person sees of a message this account sent: where it is on its way. */
export const TICKS: Record<MessageStatus, string> = { pending: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓ read', failed: '✗ not sent' }

/** Who an account is, for the person: "you", a contact's name, or the start of its id. */
export class Names {
  private readonly byAccount: Map<string, string>

  constructor(
    private readonly self: string | null,
    contacts: readonly Contact[]
  ) {
    this.byAccount = new Map(contacts.map(c => [c.accountId, c.name]))
  }

  of(accountId: string): string {
    if (accountId === this.self) return 'you'
    return this.byAccount.get(accountId) || accountId.slice(0, 8)
  }
}

const clock = (ms: number): string => when(ms).slice(11)

/** "14:05 Bob: hello", and for this account's own "14:05 you: hi ✓✓" (edited and reactions noted). */
export function formatMessage(m: Message, names: Names): string {
  const own = names.of(m.author) === 'you'
  const reactions = m.reactions.length === 0 ? '' : `  ${m.reactions.map(r => `${r.emoji}${r.accounts.length > 1 ? r.accounts.length : ''}`).join(' ')}`
  return `${clock(m.timestamp.wall)} ${names.of(m.author)}: ${m.text}${m.edited ? ' (edited)' : ''}${reactions}${own ? `  ${TICKS[m.status]}` : ''}`
}

/** The chat list, numbered as `/open <n>` and the subcommands take it: title, unread count, last message. */
export function formatChats(chats: readonly ChatListEntry[], names: Names): string {
  if (chats.length === 0) return '(no chats yet: /invite makes an invite, /accept <invite> takes one)'
  return chats
    .map((c, i) => {
      const flags = [c.pinned ? 'pinned' : '', c.muted ? 'muted' : '', c.archived ? 'archived' : ''].filter(f => f !== '').join(', ')
      const unread = c.unreadCount > 0 ? ` (${c.unreadCount} unread)` : ''
      const last = c.lastMessage === null ? '' : ` — ${names.of(c.lastMessage.author)}: ${c.lastMessage.text.slice(0, 60)}`
      return `${String(i + 1).padStart(3)}. ${c.title}${unread}${flags === '' ? '' : ` [${flags}]`}${last}`
    })
    .join('\n')
}

/**
 * The chat a person named: its number in the list (1 is the first), its id, or its title (a
 * case-insensitive start of it that only one chat has). Anything else is ERR_INVALID_ARGUMENT.
 */
export function pickChat(chats: readonly ChatListEntry[], ref: string): ChatListEntry {
  const n = Number(ref)
  if (Number.isSafeInteger(n) && String(n) === ref.trim()) {
    const chat = chats[n - 1]
    if (chat === undefined) throw new InvalidArgumentError(`there is no chat ${n}: the list has ${chats.length}`)
    return chat
  }
  const byId = chats.find(c => c.chatId === ref)
  if (byId !== undefined) return byId
  const wanted = ref.trim().toLowerCase()
  const exact = chats.filter(c => c.title.toLowerCase() === wanted)
  const starts = exact.length > 0 ? exact : chats.filter(c => c.title.toLowerCase().startsWith(wanted))
  if (starts.length === 1) return starts[0]!
  if (starts.length === 0) throw new InvalidArgumentError(`no chat is called "${ref}": give its number, id or title (see \`chats\`)`)
  throw new InvalidArgumentError(`${starts.length} chats start with "${ref}": give its number or id (see \`chats\`)`)
}
