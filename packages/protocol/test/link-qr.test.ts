import { decodeQR } from 'qr/decode.js'
import { describe, expect, it } from 'vitest'
import { linkCodeQrPayload, MAX_LINK_CODE_TEXT, parseLinkCodeText, renderLinkCodeQr } from '../src/index.js'
import { largestCode, typicalCode } from './link-arbitraries.js'

/** The terminal drawing as an RGBA image (4 px a module, a white margin), for the decoder. */
function terminalImage(text: string): { width: number; height: number; data: Uint8Array } {
  const lines = text.split('\n').filter(line => line.length > 0)
  const width = [...lines[0]!].length
  // Each character is two modules, top and bottom: true = light (drawn).
  const light: boolean[][] = []
  for (const line of lines) {
    const chars = [...line]
    light.push(chars.map(c => c === '█' || c === '▀'))
    light.push(chars.map(c => c === '█' || c === '▄'))
  }
  const scale = 4
  const margin = 8
  const size = (width + 2 * margin) * scale
  const data = new Uint8Array(size * size * 4).fill(255)
  for (let y = 0; y < light.length; y++) {
    for (let x = 0; x < width; x++) {
      if (light[y]![x]) continue
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const at = (((y + margin) * scale + dy) * size + (x + margin) * scale + dx) * 4
          data.fill(0, at, at + 3)
        }
      }
    }
  }
  return { width: size, height: size, data }
}

describe('link code QR', () => {
  it.each([
    ['a typical code', typicalCode(), 61],
    ['the largest code', largestCode(), 101]
  ])('%s renders for a terminal, and the drawing scans back to the code', (_name, code, columns) => {
    const drawing = renderLinkCodeQr(code, 'terminal')
    const lines = drawing.trimEnd().split('\n')
    expect([...lines[0]!].length).toBe(columns)
    expect(lines.every(line => /^[█▀▄ ]+$/u.test(line))).toBe(true)
    const scanned = decodeQR(terminalImage(drawing))
    expect(scanned).toBe(linkCodeQrPayload(code))
    expect(parseLinkCodeText(scanned)).toEqual(code)
  })

  it('renders as SVG: one standalone, scalable <svg> of the same symbol with a 4-module quiet zone', () => {
    for (const [code, modules] of [
      [typicalCode(), 57],
      [largestCode(), 97]
    ] as const) {
      const svg = renderLinkCodeQr(code, 'svg')
      expect(svg.startsWith('<svg ')).toBe(true)
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
      expect(svg).toContain(`viewBox="0 0 ${modules + 8} ${modules + 8}"`)
      expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"')
    }
    expect(linkCodeQrPayload(largestCode()).length).toBe(MAX_LINK_CODE_TEXT)
  })

  it('refuses a format it does not know', () => {
    expect(() => renderLinkCodeQr(typicalCode(), 'png' as 'svg')).toThrow(RangeError)
  })
})
