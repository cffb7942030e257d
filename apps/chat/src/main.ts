import type { Engine, EngineEvent } from '@tandem/engine'
import { configFromUrl, openDevice } from './device.js'
import { grantFromText, grantToText, offerFromText, offerToText } from './pairing.js'

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

const status = $<HTMLParagraphElement>('status')
const errorBox = $<HTMLParagraphElement>('error')
let selected: string | null = null
let renderQueued = false
/** This device was revoked: its engine stopped and erased its store; nothing is rendered any more. */
let revoked = false

/** Shows an error in a sentence with its code, and tells the embedding page (`tandem:error`). */
function showError(error: unknown): void {
  const err = error as { code?: string; message?: string }
  errorBox.textContent = `${err.message ?? String(error)}${err.code !== undefined ? ` (${err.code})` : ''}`
  errorBox.hidden = false
  window.dispatchEvent(new CustomEvent('tandem:error', { detail: error }))
}

function render(engine: Engine): void {
  renderQueued = false
  if (revoked) return
  const relay = engine.relayStatus()[0]
  const relayText = relay === undefined ? 'no relay' : relay.connected ? 'relay connected' : 'relay offline'
  const waiting = relay?.pendingUploads ?? 0
  status.textContent = `device ${engine.peerId.slice(-8)} · ${relayText}${waiting > 0 ? ` · ${waiting} waiting to send` : ''}`
  status.dataset.peerId = engine.peerId
  status.dataset.relay = relay?.connected === true ? 'connected' : 'offline'
  const hasAccount = engine.accountId !== null
  $('setup').hidden = hasAccount
  $('app').hidden = !hasAccount
  if (!hasAccount) {
    $('my-offer').textContent = offerToText(engine.deviceOffer())
    return
  }
  const chats = engine.listChats()
  if (selected === null || !chats.some(c => c.chatId === selected)) selected = chats[0]?.chatId ?? null
  $('chats').replaceChildren(
    ...chats.map(chat => {
      const button = document.createElement('button')
      button.textContent = chat.title
      button.setAttribute('aria-current', String(chat.chatId === selected))
      button.addEventListener('click', () => {
        selected = chat.chatId
        render(engine)
      })
      const li = document.createElement('li')
      li.append(button)
      return li
    })
  )
  $('chat-name').textContent = chats.find(c => c.chatId === selected)?.title ?? 'No chat selected'
  const messages = selected === null ? [] : engine.listMessages(selected, { limit: 200 })
  $('messages').replaceChildren(
    ...messages.map(m => {
      const li = document.createElement('li')
      const tick = document.createElement('span')
      tick.className = 'status'
      tick.textContent = m.status === 'sent' ? '✓ sent' : '🕓 on this device'
      li.append(m.text, tick)
      return li
    })
  )
  $<HTMLButtonElement>('send').querySelector('button')!.disabled = selected === null
}

function onSubmit(id: string, handler: (data: FormData) => Promise<void>): void {
  const form = $<HTMLFormElement>(id)
  form.addEventListener('submit', event => {
    event.preventDefault()
    const data = new FormData(form)
    handler(data).then(() => {
      form.reset()
    }, showError)
  })
}

async function main(): Promise<void> {
  const engine = await openDevice(configFromUrl(new URL(location.href)))
  const later = (): void => {
    if (renderQueued) return
    renderQueued = true
    requestAnimationFrame(() => {
      render(engine)
    })
  }
  engine.subscribe((event: EngineEvent) => {
    if (event.type === 'error') showError(event.error)
    if (event.type === 'revoked') {
      // another device removed this one: the engine stopped and erased the account's data here
      revoked = true
      $('setup').hidden = true
      $('app').hidden = true
      status.textContent = `device ${engine.peerId.slice(-8)} · removed from its account`
      errorBox.textContent = 'This device was removed from its account by another device, and its data here is erased. Reload the page to set it up again.'
      errorBox.hidden = false
      window.dispatchEvent(new CustomEvent('tandem:revoked', { detail: { accountId: event.accountId } }))
      return
    }
    later()
  })
  onSubmit('create-account', async data => {
    // (the recovery phrase is not shown by this demo: no recovery key, and no 0.4 s of scrypt)
    await engine.createAccount({ name: String(data.get('name')), recovery: false })
    await engine.createChat({ title: 'Notes to self' })
  })
  onSubmit('join-account', async data => {
    await engine.acceptGrant(grantFromText(String(data.get('grant'))))
  })
  onSubmit('add-device', async data => {
    const grant = await engine.addDevice(offerFromText(String(data.get('offer'))))
    $('grant-out').textContent = grantToText(grant)
  })
  onSubmit('new-chat', async data => {
    selected = (await engine.createChat({ title: String(data.get('title')) })).chatId
  })
  onSubmit('send', async data => {
    if (selected !== null) await engine.sendMessage(selected, String(data.get('message')))
  })
  window.addEventListener('pagehide', () => {
    void engine.stop()
  })
  render(engine)
  document.body.dataset.ready = 'true'
}

main().catch(err => {
  status.textContent = 'This device could not start.'
  showError(err)
})
