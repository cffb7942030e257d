import { useEffect, useState } from 'preact/hooks'
import type { ShownLinkCode } from '../api/device-api.js'
import { useAction, useDevice, useDeviceEvents } from './hooks.js'
import { QrCode } from './qr-code.js'

/**
 * A device with no account: create one, or link this device to an account another device
 * of it holds. The link code shows at once (text and QR); the existing device types or
 * scans it in its Devices screen, and both show the same six digits to compare.
 */
export function Setup() {
  const { api, showError } = useDevice()
  const act = useAction()
  const [name, setName] = useState('')
  const [code, setCode] = useState<ShownLinkCode | null>(null)
  const [digits, setDigits] = useState<string | null>(null)
  const [now, setNow] = useState(Date.now())

  const showCode = () => {
    setDigits(null)
    api.showLinkCode().then(setCode, async err => {
      // an account made here while the code was on its way: no code is due any more
      if ((await api.info()).accountId === null) showError(err)
    })
  }
  useEffect(showCode, [api])
  // the code runs out: offer a new one then (one timer to its end, not a ticking clock)
  useEffect(() => {
    if (code === null) return
    const t = setTimeout(() => setNow(Date.now()), Math.max(0, code.expiresAt - Date.now()) + 50)
    return () => clearTimeout(t)
  }, [code])
  useDeviceEvents(event => {
    if (event.type === 'link-confirmation') setDigits(event.confirmation)
  })
  const expired = code !== null && now >= code.expiresAt

  return (
    <main class="setup" id="setup" aria-labelledby="setup-title">
      <h2 id="setup-title">Set up this device</h2>
      <form
        id="create-account"
        onSubmit={e => {
          e.preventDefault()
          void act(async () => {
            // (the recovery phrase is not shown by this demo: no recovery key, and no 0.4 s of scrypt)
            await api.createAccount({ name, recovery: false })
            await api.createChat({ title: 'Notes to self' })
          })
        }}
      >
        <h3>New account</h3>
        <label for="account-name">Your name</label>
        <input id="account-name" value={name} onInput={e => setName(e.currentTarget.value)} required maxLength={64} autoComplete="name" />
        <button type="submit">Create account</button>
      </form>
      <section class="link-this" aria-labelledby="link-title">
        <h3 id="link-title">Or link this device to your account</h3>
        <p>On a device of your account, open Devices → “Link a device”, and scan this code or paste its text there.</p>
        {code !== null && !expired && (
          <>
            <QrCode svg={code.qr.svg} label="This device's link code as a QR code" />
            <label for="link-code">Link code</label>
            <textarea id="link-code" data-testid="link-code" readOnly rows={3} value={code.text} onFocus={e => e.currentTarget.select()} />
          </>
        )}
        {expired && <p>The code ran out.</p>}
        <button type="button" onClick={showCode}>
          New code
        </button>
        {digits !== null && (
          <p class="digits" aria-live="polite">
            Check that the other device shows the same digits: <strong data-testid="link-digits">{digits}</strong>
          </p>
        )}
      </section>
    </main>
  )
}
