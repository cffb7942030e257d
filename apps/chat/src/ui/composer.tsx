import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { useAction, useDevice } from './hooks.js'
import type { WireMessage } from './message-bubble.js'

/** How often typing is said again while keys are pressed: the engine's typing runs out 6 s after the last call. */
const TYPING_RENEW_MS = 2_000

/**
 * The message field: sends on Enter (Shift+Enter for a new line), says this device is typing
 * while keys are pressed (and stopped once sent or emptied), keeps the draft for the account's
 * other devices when the field is left, and edits or replies when asked to.
 */
export function Composer({
  chatId,
  initialDraft,
  replyTo,
  editing,
  onDone
}: {
  chatId: string
  initialDraft: string
  replyTo: WireMessage | null
  editing: WireMessage | null
  onDone(): void
}) {
  const { api } = useDevice()
  const act = useAction()
  const [text, setText] = useState(initialDraft)
  const typingSaidAt = useRef(0)
  /** The draft the account holds: written only when it changes. */
  const savedDraft = useRef(initialDraft)
  const saveDraft = async (value: string) => {
    if (value === savedDraft.current) return
    savedDraft.current = value
    await api.setDraft(chatId, value)
  }
  const field = useRef<HTMLTextAreaElement>(null)

  // a chat opened (by keyboard too) is ready to type in
  useEffect(() => field.current?.focus(), [])
  // before the next paint: what is typed right after pressing Edit goes over the old text, not under it
  useLayoutEffect(() => {
    if (editing !== null) setText(editing.text)
    if (editing !== null || replyTo !== null) field.current?.focus()
  }, [editing, replyTo])

  const typing = (on: boolean) => {
    const now = Date.now()
    if (on && now - typingSaidAt.current < TYPING_RENEW_MS) return
    typingSaidAt.current = on ? now : 0
    void act(() => api.setTyping(chatId, on))
  }

  const send = async () => {
    const body = text.trim()
    if (body === '') return
    setText('')
    typing(false)
    const ok = await act(async () => {
      if (editing !== null) await api.editMessage(chatId, editing.id, body)
      else await api.sendMessage(chatId, body, replyTo === null ? {} : { replyTo: replyTo.id })
      await saveDraft('')
    })
    if (ok) onDone()
    else setText(body)
  }

  return (
    <form
      class="composer"
      id="send"
      onSubmit={e => {
        e.preventDefault()
        void send()
      }}
    >
      {(replyTo !== null || editing !== null) && (
        <p class="composing-context" data-testid="composing-context">
          {editing !== null ? 'Editing' : 'Replying to'}: <q>{(editing ?? replyTo)!.text}</q>{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              setText('')
              onDone()
            }}
            aria-label="Cancel"
          >
            ✕
          </button>
        </p>
      )}
      <label for="message" class="visually-hidden">
        Message
      </label>
      <textarea
        id="message"
        ref={field}
        rows={1}
        placeholder="Message"
        value={text}
        autoComplete="off"
        onInput={e => {
          const value = e.currentTarget.value
          setText(value)
          typing(value !== '')
        }}
        onKeyDown={e => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault()
            void send()
          }
          if (e.key === 'Escape' && (editing !== null || replyTo !== null)) onDone()
        }}
        onBlur={() => {
          if (editing === null) void act(() => saveDraft(text))
        }}
      />
      <button type="submit" disabled={text.trim() === ''}>
        {editing !== null ? 'Save' : 'Send'}
      </button>
    </form>
  )
}
