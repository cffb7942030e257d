/**
 * A QR symbol the engine drew as SVG (the `qr` package, in packages/protocol): set as markup,
 * which is safe here because the engine made it from a code, not from anyone's text.
 */
export function QrCode({ svg, label }: { svg: string; label: string }) {
  return <div class="qr" role="img" aria-label={label} dangerouslySetInnerHTML={{ __html: svg }} />
}
