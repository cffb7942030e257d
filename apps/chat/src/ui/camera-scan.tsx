import { useEffect, useRef } from 'preact/hooks'
import { DeviceError } from '../api/device-api.js'
import { useDevice } from './hooks.js'

/** Whether this browser can ask for a camera at all (a page over plain http elsewhere than localhost cannot). */
export const cameraPossible = (): boolean => typeof navigator.mediaDevices?.getUserMedia === 'function'

/**
 * The whole picture, at most 800 pixels wide. qr-scanner's default looks at the middle two
 * thirds only, at 400 pixels: a link code is a dense symbol (version 10 to 20: 57 to 97
 * modules), held up wherever, and was missed when it overflowed that square.
 */
const wholeFrame = (video: HTMLVideoElement) => {
  const scale = Math.min(1, 800 / Math.max(1, video.videoWidth))
  return {
    x: 0,
    y: 0,
    width: video.videoWidth,
    height: video.videoHeight,
    downScaledWidth: Math.round(video.videoWidth * scale),
    downScaledHeight: Math.round(video.videoHeight * scale)
  }
}

/**
 * The camera, reading a QR code (the new device's link code) with `qr-scanner` (nimiq, MIT:
 * the browser's BarcodeDetector where there is one, else its own decoder in a worker).
 * Loaded when the person asks for it, so the page does not carry it until then. The first
 * code read is handed on and the camera stops.
 */
export function CameraScan({ onCode, onClose }: { onCode(text: string): void; onClose(): void }) {
  const { showError } = useDevice()
  const video = useRef<HTMLVideoElement>(null)
  useEffect(() => {
    let scanner: { destroy(): void } | null = null
    let done = false
    import('qr-scanner').then(
      async ({ default: QrScanner }) => {
        if (done || video.current === null) return
        const s = new QrScanner(
          video.current,
          result => {
            if (done) return
            done = true
            s.destroy()
            onCode(result.data)
          },
          { returnDetailedScanResult: true, maxScansPerSecond: 10, calculateScanRegion: wholeFrame }
        )
        scanner = s
        try {
          await s.start()
        } catch (err) {
          showError(new DeviceError({ code: 'ERR_CAMERA_UNAVAILABLE', message: `the camera did not start (${String(err)}): paste the code instead` }))
          onClose()
        }
      },
      err => showError(err)
    )
    return () => {
      done = true
      scanner?.destroy()
    }
  }, [])
  return (
    <div class="camera" data-testid="camera">
      <video ref={video} muted playsInline aria-label="Camera: hold the new device's QR code in view" />
      <button type="button" onClick={onClose}>
        Stop the camera
      </button>
    </div>
  )
}
