import { render } from 'preact'
import { deviceFromUrl, deviceLabel, hideToken, openDevice } from './api/open-device.js'
import { App } from './ui/app.js'
import './style.css'

const url = new URL(location.href)
const choice = deviceFromUrl(url)
hideToken(url, choice)
const root = document.getElementById('root')!

openDevice(choice).then(
  api => {
    // leaving the page closes the in-page device's store (a remote device stays up)
    window.addEventListener('pagehide', () => {
      void (api as { stop?: () => Promise<void> }).stop?.()
    })
    render(<App api={api} label={deviceLabel(choice)} />, root)
  },
  (err: { code?: string; message?: string }) => {
    // no device to drive: say why, in a sentence with its code, and tell the embedding page
    render(
      <main class="starting">
        <h1>Tandem</h1>
        <p id="status">This device could not start.</p>
        <p id="error" role="alert">
          {err.message ?? String(err)}
          {err.code !== undefined ? ` (${err.code})` : ''}
        </p>
      </main>,
      root
    )
    window.dispatchEvent(new CustomEvent('tandem:error', { detail: err }))
  }
)
