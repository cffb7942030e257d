/**
 * The link code drawn as a QR code, with `qr` (paulmillr/qr 0.7): for a terminal as text
 * (half-block characters, two modules per character cell) and as SVG for a page.
 *
 * Why `qr` over `qrcode` (the most downloaded): it is ESM with no dependencies, and the
 * encoder a bundle pulls in is one 39 KB file (the decoder, 131 KB, is a separate entry
 * that only the tests import, to read the symbol back); it runs unchanged in Node and
 * browsers, like the rest of this package. `qrcode` 1.5 is CommonJS, reaches Node's `fs`
 * unless a bundler honours its "browser" field, and installs yargs and pngjs with it.
 *
 * The symbol holds linkCodeQrPayload (upper case, so QR's alphanumeric mode: 5.5 bits a
 * character) at error correction level M (15 %), what a phone camera reads off a screen.
 * A typical code (one circuit and two LAN addresses, 273 characters) is version 10, 57
 * modules: 61 columns and 31 lines in a terminal with its 2-module border. The largest code
 * (937 characters) is version 20, 97 modules: 101 columns.
 */
import encodeQR from 'qr'
import type { LinkCode } from './link-code.js'
import { linkCodeQrPayload } from './link-code-text.js'

export type LinkCodeQrFormat = 'terminal' | 'svg'

const QR_OPTIONS = { ecc: 'medium', encoding: 'alphanumeric' } as const

/**
 * 'terminal': lines of '█', '▀', '▄' and ' ', the light modules drawn (so it reads on a dark
 * terminal, the usual one), with a 2-module light border (the standard's 4 would cost 4
 * columns; cameras read 2 off a screen). 'svg': a standalone <svg> with a viewBox, scalable
 * to any size, with the standard 4-module quiet zone.
 */
export function renderLinkCodeQr(code: LinkCode, format: LinkCodeQrFormat): string {
  const payload = linkCodeQrPayload(code)
  if (format === 'terminal') return encodeQR(payload, 'ascii', { ...QR_OPTIONS, border: 2 })
  if (format === 'svg') return encodeQR(payload, 'svg', { ...QR_OPTIONS, border: 4 })
  throw new RangeError(`QR format must be 'terminal' or 'svg', not ${String(format)}`)
}
