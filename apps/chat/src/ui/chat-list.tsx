import type { DeviceEvent } from '../api/device-api.js'
import { shortTime } from './format.js'
import { useQuery } from './hooks.js'
import { useState } from 'preact/hooks'

/** Events after which the chat list reads again: its own, and messages that move a last message or an unread count. */
const affectsList = (e: DeviceEvent): boolean => e.type === 'chats' || e.type === 'message' || e.type === 'messages' || e.type === 'message-changed' || e.type === 'account'

/**
 * The account's chats: pinned first, then by the newest message; each with its last message,
 * unread badge, and pinned / muted marks. Archived chats are behind a toggle.
 */
export function ChatList({ selected, onOpen }: { selected: string | null; onOpen: (chatId: string) => void }) {
  const [chats] = useQuery(api => api.listChats(), affectsList, [])
  const [showArchived, setShowArchived] = useState(false)
  if (chats === undefined) return <p>Loading chats…</p>
  const last = (c: (typeof chats)[number]) => c.lastMessage?.timestamp.wall ?? c.createdAt
  const sorted = [...chats].sort((a, b) => Number(b.pinned) - Number(a.pinned) || last(b) - last(a))
  const shown = sorted.filter(c => c.archived === showArchived)
  const archived = chats.filter(c => c.archived).length
  return (
    <>
      <ul class="chat-list" id="chats" data-testid="chat-list">
        {shown.map(c => (
          <li key={c.chatId}>
            <button
              type="button"
              data-testid="chat-item"
              data-chat-id={c.chatId}
              data-title={c.title}
              aria-current={c.chatId === selected ? 'true' : undefined}
              onClick={() => onOpen(c.chatId)}
            >
              <span class="chat-title">
                {c.pinned && (
                  <span role="img" aria-label="pinned">
                    📌{' '}
                  </span>
                )}
                {c.title}
                {c.muted && (
                  <span role="img" aria-label="muted">
                    {' '}
                    🔕
                  </span>
                )}
              </span>
              <span class="chat-time">{c.lastMessage !== null ? shortTime(c.lastMessage.timestamp.wall) : ''}</span>
              <span class="chat-last">{c.draft !== '' ? `Draft: ${c.draft}` : (c.lastMessage?.text ?? 'No messages yet')}</span>
              {c.unreadCount > 0 && (
                <span class={`badge ${c.muted ? 'muted' : ''}`} data-testid="unread">
                  {c.unreadCount}
                  <span class="visually-hidden"> unread</span>
                </span>
              )}
            </button>
          </li>
        ))}
        {shown.length === 0 && <li class="empty">{showArchived ? 'No archived chats.' : 'No chats yet.'}</li>}
      </ul>
      {(archived > 0 || showArchived) && (
        <button type="button" class="link" aria-pressed={showArchived} onClick={() => setShowArchived(!showArchived)}>
          {showArchived ? '← All chats' : `Archived (${archived})`}
        </button>
      )}
    </>
  )
}
