import { useEffect, useRef, useState } from 'preact/hooks'
import { useAction, useDevice, useDeviceEvents } from './hooks.js'

/**
 * While this device links another (`linkDevice`), the person compares six digits with the
 * new device's screen: a modal dialog (focus inside, Escape declines) answering `confirmLink`.
 */
export function LinkConfirmDialog() {
  const { api } = useDevice()
  const act = useAction()
  const [asked, setAsked] = useState<{ confirmation: string; name?: string } | null>(null)
  const dialog = useRef<HTMLDialogElement>(null)
  useDeviceEvents(e => {
    if (e.type === 'link-confirm') setAsked({ confirmation: e.confirmation, ...(e.name !== undefined ? { name: e.name } : {}) })
  })
  useEffect(() => {
    const d = dialog.current
    if (d === null) return
    if (asked !== null && !d.open) d.showModal()
    if (asked === null && d.open) d.close()
  }, [asked])
  const answer = (ok: boolean) => {
    setAsked(null)
    void act(() => api.confirmLink(ok))
  }
  return (
    <dialog
      ref={dialog}
      aria-labelledby="link-confirm-title"
      data-testid="link-confirm"
      onCancel={e => {
        e.preventDefault()
        answer(false)
      }}
    >
      <h2 id="link-confirm-title">Link {asked?.name ?? 'this device'}?</h2>
      <p>Does the new device show these digits?</p>
      <p class="digits">
        <strong data-testid="link-confirm-digits">{asked?.confirmation}</strong>
      </p>
      <div class="row">
        <button type="button" data-testid="link-confirm-yes" onClick={() => answer(true)}>
          They match: link it
        </button>
        <button type="button" onClick={() => answer(false)}>
          They differ: cancel
        </button>
      </div>
    </dialog>
  )
}
