import type { ChatListEntry } from '@tandem/engine'
import { useState } from 'preact/hooks'
import type { Wire } from '../api/wire.js'
import { download } from './format.js'
import { useAction, useDevice, useQuery } from './hooks.js'

const ownChat = (err: { code?: string }): [] => {
  if (err.code === 'ERR_INVALID_ARGUMENT') return []
  throw err
}

/** Groups of five digits, as the safety number is read aloud. */
const groupDigits = (digits: string): string => digits.replace(/(\d{5})(?=\d)/g, '$1 ')

/**
 * A chat's settings and people: pin, mute, archive, export (JSON or HTML), rename; its
 * members with each one's safety number, remove a member, add contacts to it.
 */
export function ChatInfo({ entry }: { entry: Wire<ChatListEntry> }) {
  const { api } = useDevice()
  const act = useAction()
  const chatId = entry.chatId
  const [members] = useQuery(
    // a chat of this account alone has no members record (ERR_INVALID_ARGUMENT): nobody to list
    a => a.listMembers(chatId).catch(ownChat),
    e => e.type === 'members' && e.chatId === chatId,
    [chatId]
  )
  const [contacts] = useQuery(
    a => a.listContacts(),
    e => e.type === 'contacts',
    []
  )
  const [safety, setSafety] = useState<{ name: string; digits: string } | null>(null)
  const [title, setTitle] = useState(entry.title)
  const shared = (members?.length ?? 0) > 0
  const addable = (contacts ?? []).filter(c => !members?.some(m => m.accountId === c.accountId))
  const toggle = (field: 'pinned' | 'muted' | 'archived') => act(() => api.updateChat(chatId, { [field]: !entry[field] }))
  const exportAs = (format: 'json' | 'html') =>
    act(async () => {
      const text = await api.exportChat(chatId, { format })
      download(`${entry.title || 'chat'}.${format}`, text, format === 'json' ? 'application/json' : 'text/html')
    })

  return (
    <section class="chat-info" aria-label="Chat info" data-testid="chat-info">
      <div class="row">
        <button type="button" aria-pressed={entry.pinned} onClick={() => toggle('pinned')}>
          {entry.pinned ? 'Unpin' : 'Pin'}
        </button>
        <button type="button" aria-pressed={entry.muted} onClick={() => toggle('muted')}>
          {entry.muted ? 'Unmute' : 'Mute'}
        </button>
        <button type="button" aria-pressed={entry.archived} onClick={() => toggle('archived')}>
          {entry.archived ? 'Unarchive' : 'Archive'}
        </button>
        <button type="button" onClick={() => exportAs('json')} data-testid="export-json">
          Export JSON
        </button>
        <button type="button" onClick={() => exportAs('html')} data-testid="export-html">
          Export HTML
        </button>
      </div>
      <form
        class="row"
        onSubmit={e => {
          e.preventDefault()
          void act(() => (shared ? api.renameChat(chatId, title) : api.updateChat(chatId, { title })))
        }}
      >
        <label for="chat-title-edit">Title</label>
        <input id="chat-title-edit" value={title} onInput={e => setTitle(e.currentTarget.value)} required maxLength={256} />
        <button type="submit">Rename</button>
      </form>
      {shared && (
        <>
          <h3>Members</h3>
          <ul class="members" data-testid="members">
            {members!.map(m => (
              <li key={m.accountId} data-account-id={m.accountId}>
                {m.self ? 'You' : m.name || `…${m.accountId.slice(-6)}`}{' '}
                {!m.self && (
                  <>
                    <button type="button" class="link" onClick={() => act(async () => setSafety({ name: m.name, digits: await api.safetyNumber(m.accountId) }))}>
                      Safety number
                    </button>{' '}
                    <button type="button" class="link" onClick={() => act(() => api.removeMember(chatId, m.accountId))}>
                      Remove
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
          {safety !== null && (
            <p class="safety" data-testid="safety-number">
              Compare with {safety.name || 'them'} (in person or on a call): <code>{groupDigits(safety.digits)}</code>
            </p>
          )}
          {addable.length > 0 && (
            <form
              class="row"
              onSubmit={e => {
                e.preventDefault()
                const id = new FormData(e.currentTarget).get('member')
                if (typeof id === 'string') void act(() => api.addMembers(chatId, [id]))
              }}
            >
              <label for="add-member">Add a contact</label>
              <select id="add-member" name="member">
                {addable.map(c => (
                  <option key={c.accountId} value={c.accountId}>
                    {c.name || c.accountId}
                  </option>
                ))}
              </select>
              <button type="submit">Add</button>
            </form>
          )}
        </>
      )}
    </section>
  )
}
