import { useEffect, useMemo, useState } from 'preact/hooks'
import type { DeviceApi, DeviceEvent, DeviceSummary } from '../api/device-api.js'
import { ChatList } from './chat-list.js'
import { Conversation } from './conversation.js'
import { DevicesScreen } from './devices.js'
import { Device, type DeviceContext } from './hooks.js'
import { LinkConfirmDialog } from './link-confirm.js'
import { NewChat } from './new-chat.js'
import { SearchScreen } from './search.js'
import { Setup } from './setup.js'
import { StatusBar, StatusScreen } from './status.js'

/** What the main pane shows. */
export type View = { kind: 'none' } | { kind: 'chat'; chatId: string } | { kind: 'new-chat' } | { kind: 'devices' } | { kind: 'search' } | { kind: 'status' }

/** Sentences for errors: the message and its stable code; the embedding page hears `tandem:error`. */
function errorText(error: unknown): string {
  const e = error as { code?: string; message?: string }
  return `${e.message ?? String(error)}${e.code !== undefined ? ` (${e.code})` : ''}`
}

export function App({ api, label }: { api: DeviceApi; label: string }) {
  const [info, setInfo] = useState<DeviceSummary | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [revoked, setRevoked] = useState(false)
  const [view, setView] = useState<View>({ kind: 'none' })

  const context: DeviceContext = useMemo(
    () => ({
      api,
      accountId: info?.accountId ?? null,
      showError: (err: unknown) => {
        setError(errorText(err))
        window.dispatchEvent(new CustomEvent('tandem:error', { detail: err }))
      }
    }),
    [api, info?.accountId]
  )

  useEffect(() => {
    const refresh = () => {
      api.info().then(setInfo, context.showError)
    }
    refresh()
    return api.subscribe((event: DeviceEvent) => {
      if (event.type === 'account') refresh()
      if (event.type === 'error') context.showError(event.error)
      if (event.type === 'revoked') {
        // another device removed this one: its engine stopped and erased the account's data here
        setRevoked(true)
        window.dispatchEvent(new CustomEvent('tandem:revoked', { detail: { accountId: event.accountId } }))
      }
    })
  }, [api])

  useEffect(() => {
    document.title = `Tandem · ${info?.account?.name ?? label}`
    if (info !== null) document.body.dataset.ready = 'true'
  }, [info, label])

  const errorBox = (
    <p id="error" role="alert" hidden={error === null}>
      {error}{' '}
      <button type="button" class="link" onClick={() => setError(null)} aria-label="Dismiss the error">
        ✕
      </button>
    </p>
  )

  if (revoked) {
    return (
      <main class="signed-out" data-testid="signed-out">
        <h1>Signed out</h1>
        <p>This device was removed from its account by another device, and its data here is erased.</p>
        <p>Reload the page to set it up again.</p>
      </main>
    )
  }
  if (info === null) {
    return (
      <main class="starting">
        <p id="status">Starting…</p>
        {errorBox}
      </main>
    )
  }
  const open = (v: View) => setView(v)
  const selected = view.kind === 'chat' ? view.chatId : null
  return (
    <Device.Provider value={context}>
      <header class="top">
        <h1>Tandem</h1>
        <StatusBar info={info} onOpen={() => open({ kind: 'status' })} />
        {errorBox}
      </header>
      {info.accountId === null ? (
        <Setup />
      ) : (
        <div class={`layout ${view.kind === 'none' ? '' : 'has-view'}`} id="app">
          <aside aria-label="Chats">
            <nav class="actions" aria-label="Main">
              <button type="button" data-testid="nav-new-chat" onClick={() => open({ kind: 'new-chat' })}>
                New chat
              </button>
              <button type="button" data-testid="nav-search" onClick={() => open({ kind: 'search' })}>
                Search
              </button>
              <button type="button" data-testid="nav-devices" onClick={() => open({ kind: 'devices' })}>
                Devices
              </button>
            </nav>
            <ChatList selected={selected} onOpen={chatId => open({ kind: 'chat', chatId })} />
          </aside>
          <section class="pane">
            {view.kind !== 'none' && (
              <button type="button" class="back" onClick={() => open({ kind: 'none' })}>
                ← Chats
              </button>
            )}
            {view.kind === 'none' && <p class="empty">Pick a chat, or start a new one.</p>}
            {view.kind === 'chat' && <Conversation key={view.chatId} chatId={view.chatId} />}
            {view.kind === 'new-chat' && <NewChat onOpen={chatId => open({ kind: 'chat', chatId })} />}
            {view.kind === 'devices' && <DevicesScreen />}
            {view.kind === 'search' && <SearchScreen onOpen={chatId => open({ kind: 'chat', chatId })} />}
            {view.kind === 'status' && <StatusScreen info={info} />}
          </section>
        </div>
      )}
      <LinkConfirmDialog />
    </Device.Provider>
  )
}
