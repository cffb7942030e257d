import type { Message } from '@tandem/engine'
import { memo } from 'preact/compat'
import type { Wire } from '../api/wire.js'
import { type Names, shortTime, TICKS } from './format.js'
import { useAction, useDevice } from './hooks.js'

export type WireMessage = Wire<Message>

const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮']

/**
 * One message: a bubble (this account's on the right) with its author, reply quote, text,
 * edited mark, time and tick (🕓 pending, ✓ sent, ✓✓ delivered, blue ✓✓ read), reactions
 * (press one to add or take back this account's), and its actions in a disclosure. Memoized:
 * scrolling back 1,000 messages re-drew every bubble for each page of 50 (a 180 ms render at
 * the 20th page, `npm run bench -- --only app`); now only the new ones. A row of a windowed
 * list: placed at `top` px in it, measured by `measure` (which reads its `data-index`).
 */
export const MessageBubble = memo(function MessageBubble({
  message: m,
  index,
  top,
  measure,
  names,
  onReply,
  onEdit
}: {
  message: WireMessage
  index: number
  top: number
  measure(el: HTMLLIElement | null): void
  names: Names
  onReply(m: WireMessage): void
  onEdit(m: WireMessage): void
}) {
  const { api, accountId } = useDevice()
  const act = useAction()
  const mine = m.author === accountId
  const tick = TICKS[m.status]
  const react = (emoji: string, on: boolean) => act(() => api.react(m.chatId, m.id, emoji, on))
  return (
    <li
      class={`bubble ${mine ? 'mine' : 'theirs'}`}
      ref={measure}
      data-index={index}
      style={{ transform: `translateY(${top}px)` }}
      data-testid="message"
      data-id={m.id}
      data-status={m.status}
      data-text={m.text}
    >
      {!mine && <span class="author">{names(m.author)}</span>}
      {m.replyTo !== null && (
        <blockquote class="reply-quote" data-testid="reply-quote">
          {m.replyTo.deleted ? (
            <em>Deleted message</em>
          ) : m.replyTo.text === undefined ? (
            <em>An earlier message</em>
          ) : (
            <>
              {m.replyTo.author !== undefined && <b>{names(m.replyTo.author)}: </b>}
              {m.replyTo.text}
            </>
          )}
        </blockquote>
      )}
      <span class="text">{m.text}</span>
      <span class="meta">
        {m.edited && (
          <span class="edited" data-testid="edited">
            edited{' '}
          </span>
        )}
        <time dateTime={new Date(m.timestamp.wall).toISOString()}>{shortTime(m.timestamp.wall)}</time>
        {mine && (
          <span class={`tick ${m.status}`} data-testid="tick" role="img" aria-label={tick.label} title={tick.label}>
            {' '}
            {tick.mark}
          </span>
        )}
      </span>
      {m.reactions.length > 0 && (
        <ul class="reactions" aria-label="Reactions">
          {m.reactions.map(r => {
            const own = accountId !== null && r.accounts.includes(accountId)
            return (
              <li key={r.emoji}>
                <button type="button" aria-pressed={own} title={r.accounts.map(names).join(', ')} onClick={() => react(r.emoji, !own)} data-testid="reaction">
                  {r.emoji} {r.accounts.length}
                </button>
              </li>
            )
          })}
        </ul>
      )}
      <details class="message-actions">
        <summary aria-label="Message actions">⋯</summary>
        <div>
          <button type="button" onClick={() => onReply(m)}>
            Reply
          </button>
          {QUICK_REACTIONS.map(e => (
            <button type="button" key={e} aria-label={`React ${e}`} onClick={() => react(e, true)}>
              {e}
            </button>
          ))}
          {mine && (
            <button type="button" onClick={() => onEdit(m)}>
              Edit
            </button>
          )}
          <button type="button" onClick={() => act(() => api.deleteForMe(m.chatId, m.id))}>
            Delete for me
          </button>
          {mine && (
            <button type="button" onClick={() => act(() => api.deleteMessage(m.chatId, m.id))}>
              Delete for everyone
            </button>
          )}
        </div>
      </details>
    </li>
  )
})
