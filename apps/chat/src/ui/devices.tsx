import { useState } from 'preact/hooks'
import { CameraScan, cameraPossible } from './camera-scan.js'
import { ago } from './format.js'
import { useAction, useDevice, useQuery } from './hooks.js'

/**
 * The account's devices: this one, the others with when a relay last served them; rename,
 * revoke (asked twice: it erases that device's data for good); and linking a new device by
 * the code it shows (pasted here; the six digits to compare come up in a dialog).
 */
export function DevicesScreen() {
  const { api } = useDevice()
  const act = useAction()
  const [devices] = useQuery(
    a => a.listDevices(),
    e => e.type === 'account',
    []
  )
  const [code, setCode] = useState('')
  const [linking, setLinking] = useState(false)
  const [linked, setLinked] = useState<string | null>(null)
  const [renaming, setRenaming] = useState<{ peerId: string; name: string } | null>(null)
  const [revoking, setRevoking] = useState<string | null>(null)
  const [scanning, setScanning] = useState(false)

  const link = (text: string) => {
    setLinking(true)
    setLinked(null)
    void act(async () => {
      const device = await api.linkDevice(text.trim())
      setLinked(device.name)
      setCode('')
    }).then(() => setLinking(false))
  }

  return (
    <section class="devices" aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      <ul class="device-list" data-testid="device-list">
        {(devices ?? []).map(d => (
          <li key={d.peerId} data-testid="device" data-peer-id={d.peerId} data-this={d.thisDevice}>
            <span class="device-name">
              {d.name || 'Unnamed device'} <small>({d.platform || 'device'})</small>
              {d.thisDevice && <strong> · this device</strong>}
            </span>
            <span class="device-active">{d.thisDevice ? 'active now' : d.lastActiveAt !== null ? `last active ${ago(d.lastActiveAt)}` : 'not seen yet'}</span>
            {renaming?.peerId === d.peerId ? (
              <form
                class="row"
                onSubmit={e => {
                  e.preventDefault()
                  void act(() => api.renameDevice(d.peerId, renaming.name)).then(() => setRenaming(null))
                }}
              >
                <label for="device-name" class="visually-hidden">
                  New name
                </label>
                <input id="device-name" value={renaming.name} onInput={e => setRenaming({ peerId: d.peerId, name: e.currentTarget.value })} required maxLength={64} />
                <button type="submit">Save</button>
                <button type="button" onClick={() => setRenaming(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <span class="row">
                <button type="button" onClick={() => setRenaming({ peerId: d.peerId, name: d.name })} aria-label={`Rename ${d.name}`}>
                  Rename
                </button>
                {!d.thisDevice &&
                  (revoking === d.peerId ? (
                    <>
                      <button type="button" class="danger" data-testid="revoke-confirm" onClick={() => act(() => api.revokeDevice(d.peerId)).then(() => setRevoking(null))}>
                        Sign it out and erase its data
                      </button>
                      <button type="button" onClick={() => setRevoking(null)}>
                        Keep it
                      </button>
                    </>
                  ) : (
                    <button type="button" data-testid="revoke" aria-label={`Revoke ${d.name}`} onClick={() => setRevoking(d.peerId)}>
                      Revoke
                    </button>
                  ))}
              </span>
            )}
          </li>
        ))}
      </ul>
      <form
        id="link-device"
        onSubmit={e => {
          e.preventDefault()
          link(code)
        }}
      >
        <h3>Link a device</h3>
        <label for="link-code-input">On the new device, open this app: paste the link code it shows, or scan its QR code</label>
        <textarea id="link-code-input" data-testid="link-code-input" rows={3} value={code} onInput={e => setCode(e.currentTarget.value)} required />
        <button type="submit" disabled={linking} data-testid="link-submit">
          {linking ? 'Linking…' : 'Link'}
        </button>
        {cameraPossible() && !scanning && (
          <button type="button" disabled={linking} data-testid="scan" onClick={() => setScanning(true)}>
            Scan with the camera
          </button>
        )}
        {scanning && (
          <CameraScan
            onCode={text => {
              setScanning(false)
              setCode(text)
              link(text)
            }}
            onClose={() => setScanning(false)}
          />
        )}
        {linked !== null && (
          <p role="status" data-testid="linked">
            {linked} is linked: it is getting the history now.
          </p>
        )}
      </form>
    </section>
  )
}
