import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { DeviceEvent } from '../api/device-api.js'
import { ChatInfo } from './chat-info.js'
import { Composer } from './composer.js'
import { ago, nameOf, readNames } from './format.js'
import { useAction, useDevice, useDeviceEvents, useQuery } from './hooks.js'
import { MessageBubble, type WireMessage } from './message-bubble.js'
import { useVirtualizer } from './virtualizer.js'

/** Messages read at once: the newest window, and each page when scrolling back. */
const PAGE = 50
/** A one-line bubble's height (px) before it is measured; the list's padding and the gap between bubbles. */
const BUBBLE_PX = 44
const PAD_PX = 8
const GAP_PX = 5
/** Bubbles drawn beyond each edge of the view, so a scroll shows drawn bubbles before the next render. */
const OVERSCAN = 8

const forChat = (chatId: string) => (e: DeviceEvent) =>
  (e.type === 'message' || e.type === 'messages' || e.type === 'message-changed' || e.type === 'status') && e.chatId === chatId

/**
 * One chat: its messages as bubbles (the newest PAGE, older pages loaded on scrolling back
 * with `loadMessages`), who is online or typing, the history still coming in, and the
 * composer. Shown, it marks the newest message of the others read, and says this device is
 * present in the chat.
 *
 * The list is windowed: only the bubbles near the view are in the DOM (`useVirtualizer`),
 * the bubble being read stays in place when an older page is prepended, and the view follows
 * new messages while it is at the bottom. With every loaded bubble in the DOM, scrolling back
 * cost Chromium a style and layout pass over the whole list per page: main-thread tasks of
 * up to 239 ms at the 20th page (load 7–9, `npm run bench -- --only app`), which a keystroke
 * waited behind.
 */
export function Conversation({ chatId }: { chatId: string }) {
  const { api, accountId } = useDevice()
  const act = useAction()
  const [recent] = useQuery(a => a.listMessages(chatId, { limit: PAGE }), forChat(chatId), [chatId])
  const [entry] = useQuery(
    async a => (await a.listChats()).find(c => c.chatId === chatId) ?? null,
    e => e.type === 'chats',
    [chatId]
  )
  const [names] = useQuery(
    a => readNames(a, accountId),
    e => e.type === 'contacts' || e.type === 'members' || e.type === 'account',
    [accountId]
  )
  const [presence] = useQuery(
    a => a.presence(chatId),
    e => (e.type === 'presence' || e.type === 'typing') && e.chatId === chatId,
    [chatId]
  )
  const [older, setOlder] = useState<WireMessage[]>([])
  const [olderDone, setOlderDone] = useState(false)
  const [loadingOlder, setLoadingOlder] = useState(false)
  const [typing, setTyping] = useState<Map<string, string>>(new Map())
  const [history, setHistory] = useState<{ fetched: number; total: number } | null>(null)
  const [replyTo, setReplyTo] = useState<WireMessage | null>(null)
  const [editing, setEditing] = useState<WireMessage | null>(null)
  const [showInfo, setShowInfo] = useState(false)
  const scroller = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  /** The bubble at the top of the view as an older page came in, and how far the view's top was below its top. */
  const reading = useRef<{ id: string; below: number } | null>(null)
  const markedRead = useRef<string | null>(null)
  // stable across renders, as the callbacks below: a bubble whose message did not change is not drawn again
  const who = useMemo(() => nameOf(names, accountId), [names, accountId])

  useDeviceEvents(e => {
    if (e.type === 'typing' && e.chatId === chatId && e.account !== accountId) {
      setTyping(t => {
        const next = new Map(t)
        if (e.typing) next.set(e.device, e.account)
        else next.delete(e.device)
        return next
      })
    }
    if (e.type === 'history' && e.chatId === chatId) setHistory({ fetched: e.segmentsFetched, total: e.segments })
    // an older message changed (edited, reacted to, deleted): read it again
    if (e.type === 'message-changed' && e.chatId === chatId && older.some(m => e.messageIds.includes(m.id))) {
      void Promise.all(older.map(m => (e.messageIds.includes(m.id) ? api.getMessage(chatId, m.id).catch(() => null) : m))).then(ms =>
        setOlder(ms.filter((m): m is WireMessage => m !== null))
      )
    }
  })

  // present in the chat while it is shown
  useEffect(() => {
    void act(() => api.setPresent(chatId, true))
    return () => {
      void api.setPresent(chatId, false).catch(() => {})
    }
  }, [chatId])

  const messages = useMemo(() => {
    const recentIds = new Set(recent?.map(m => m.id))
    return [...older.filter(m => !recentIds.has(m.id)), ...(recent ?? [])]
  }, [older, recent])
  const rows = useVirtualizer<HTMLLIElement>({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => BUBBLE_PX,
    getItemKey: i => messages[i]!.id,
    paddingStart: PAD_PX,
    paddingEnd: PAD_PX,
    gap: GAP_PX,
    overscan: OVERSCAN
  })

  // After each render: the bubble being read where it was once an older page is in (its
  // bubbles above it, their heights estimated until drawn; the virtualizer moves the view by
  // the difference when it measures one above the view), or the newest message in view while
  // the person is at the bottom. Ours, not TanStack's `anchorTo: 'end'` + `followOnAppend`:
  // with those, a scroll to the top brought the page in and the view back at the bottom
  // (test/browser/chat-features.test.ts's long chat), for reasons not found in the time.
  useLayoutEffect(() => {
    const el = scroller.current
    if (el === null) return
    const r = reading.current
    if (r !== null) {
      reading.current = null
      const i = messages.findIndex(m => m.id === r.id)
      const row = i < 0 ? undefined : rows.measurementsCache[i]
      if (row !== undefined) el.scrollTop = row.start + r.below
    } else if (atBottom.current) el.scrollTop = el.scrollHeight
  })

  // the others' newest message shown: read (the engine never moves the watermark back)
  useEffect(() => {
    const theirs = recent?.filter(m => m.author !== accountId).at(-1)
    if (theirs === undefined || theirs.id === markedRead.current || document.visibilityState !== 'visible') return
    markedRead.current = theirs.id
    void act(() => api.markRead(chatId, theirs.id))
  }, [recent])

  const loadOlder = async () => {
    const first = messages[0]
    if (loadingOlder || olderDone || first === undefined) return
    setLoadingOlder(true)
    await act(async () => {
      const page = await api.loadMessages(chatId, { before: first.id, limit: PAGE })
      if (page.length < PAGE) setOlderDone(true)
      const el = scroller.current
      const top = el === null ? undefined : rows.getVirtualItemForOffset(el.scrollTop)
      if (el !== null && top !== undefined && page.length > 0) reading.current = { id: String(top.key), below: el.scrollTop - top.start }
      setOlder(o => [...page, ...o])
    })
    setLoadingOlder(false)
  }

  const reply = useCallback((m: WireMessage) => {
    setEditing(null)
    setReplyTo(m)
  }, [])
  const edit = useCallback((m: WireMessage) => {
    setReplyTo(null)
    setEditing(m)
  }, [])

  const others = (presence ?? []).filter(p => p.account !== accountId)
  const online = others.some(p => p.online)
  const lastSeen = Math.max(0, ...others.map(p => p.lastSeen))
  const typers = [...new Set(typing.values())].map(who)

  return (
    <article class="conversation" aria-labelledby="chat-name">
      <header class="chat-header">
        <div>
          <h2 id="chat-name">{entry?.title ?? ''}</h2>
          <p class="presence" data-testid="presence">
            {typers.length > 0 ? <span data-testid="typing">{typers.join(', ')} typing…</span> : online ? 'online' : lastSeen > 0 ? `last seen ${ago(lastSeen)}` : ''}
          </p>
        </div>
        <button type="button" aria-expanded={showInfo} data-testid="chat-info-toggle" onClick={() => setShowInfo(!showInfo)}>
          Chat info
        </button>
      </header>
      {history !== null && history.fetched < history.total && (
        <p class="history">
          <label for="history-progress">Loading history</label> <progress id="history-progress" data-testid="history-progress" max={history.total} value={history.fetched} />
        </p>
      )}
      {showInfo && entry != null && <ChatInfo entry={entry} />}
      {messages.length >= PAGE && !olderDone && (
        <p class="older">
          <button type="button" disabled={loadingOlder} onClick={() => void loadOlder()} data-testid="load-older">
            {loadingOlder ? 'Loading…' : 'Load earlier messages'}
          </button>
        </p>
      )}
      <div
        class="messages"
        id="messages"
        ref={scroller}
        onScroll={e => {
          const el = e.currentTarget
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
          if (el.scrollTop < 40) void loadOlder()
        }}
      >
        <ol class="message-rows" aria-live="polite" aria-label="Messages" data-loaded={messages.length} style={{ height: `${rows.getTotalSize()}px` }}>
          {rows.getVirtualItems().map(row => (
            <MessageBubble key={row.key} message={messages[row.index]!} index={row.index} top={row.start} measure={rows.measureElement} names={who} onReply={reply} onEdit={edit} />
          ))}
        </ol>
        {recent !== undefined && messages.length === 0 && <p class="empty">No messages yet.</p>}
      </div>
      {entry !== undefined && (
        <Composer
          chatId={chatId}
          initialDraft={entry?.draft ?? ''}
          replyTo={replyTo}
          editing={editing}
          onDone={() => {
            setReplyTo(null)
            setEditing(null)
          }}
        />
      )}
    </article>
  )
}
