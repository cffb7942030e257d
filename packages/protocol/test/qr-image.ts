/** The terminal drawing as an RGBA image (4 px a module, a white margin), for the decoder. */
export function terminalImage(text: string): { width: number; height: number; data: Uint8Array } {
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
