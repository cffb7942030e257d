import { decodeQR } from 'qr/decode.js'
import { describe, expect, it } from 'vitest'
import { linkCodeQrPayload, MAX_LINK_CODE_TEXT, parseLinkCodeText, renderLinkCodeQr } from '../src/index.js'
import { largestCode, typicalCode } from './link-arbitraries.js'
import { terminalImage } from './qr-image.js'

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
