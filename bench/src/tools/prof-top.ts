// Summarises a V8 .cpuprofile: top functions by self time and by total (inclusive) time.
//   node prof-top.js FILE.cpuprofile [N]
import { readFileSync } from 'node:fs'

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }
const top = Number(process.argv[3] ?? 25)
const byId = new Map(prof.nodes.map(n => [n.id, n]))
const selfUs = new Map<number, number>()
prof.samples.forEach((id, i) => { selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)) })
const name = (n: Node): string => {
  const f = n.callFrame
  const file = f.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '~/').replace(/.*\/work\/main\//, '')
  return `${f.functionName || '(anon)'} ${file}:${f.lineNumber + 1}`
}
const self = new Map<string, number>()
const total = new Map<string, number>()
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
for (const [id, us] of selfUs) {
  const n = byId.get(id)!
  self.set(name(n), (self.get(name(n)) ?? 0) + us)
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur)!)
    if (seen.has(k)) continue
    seen.add(k)
    total.set(k, (total.get(k) ?? 0) + us)
  }
}
const all = (prof.endTime - prof.startTime) / 1000
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title} (profile ${all.toFixed(0)} ms)`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${(100 * us / 1000 / all).toFixed(1).padStart(5)}%  ${k}`)
}
print('self', self)
print('total', total)
