import { writeFile } from 'node:fs/promises'
import encodeQR from 'qr'

/** Chromium switches for a camera that plays `file` (a Y4M video) and needs no permission prompt. */
export const fakeCameraArgs = (file: string): string[] => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`]

/**
 * Writes a still picture of `text` as a QR code, as Chromium's fake camera reads it: a Y4M
 * video (YUV 4:2:0, one frame, which the camera repeats). Dark modules are black, the rest
 * white, 6 pixels a module on a white 640×480 frame. Chromium opens the file when a page
 * starts the camera, so it may be written after the browser started.
 */
export async function writeQrVideo(file: string, text: string): Promise<void> {
  const W = 640
  const H = 480
  const modules = encodeQR(text, 'raw', { ecc: 'medium', border: 4 })
  const scale = Math.floor(Math.min(W, H) / modules.length)
  const x0 = Math.floor((W - modules.length * scale) / 2)
  const y0 = Math.floor((H - modules.length * scale) / 2)
  const luma = new Uint8Array(W * H).fill(255)
  modules.forEach((row, my) => {
    row.forEach((dark, mx) => {
      if (!dark) return
      for (let y = 0; y < scale; y++) luma.fill(0, (y0 + my * scale + y) * W + x0 + mx * scale, (y0 + my * scale + y) * W + x0 + (mx + 1) * scale)
    })
  })
  const chroma = new Uint8Array((W / 2) * (H / 2) * 2).fill(128) // no colour
  const header = new TextEncoder().encode(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\nFRAME\n`)
  await writeFile(file, Buffer.concat([header, luma, chroma]))
}
