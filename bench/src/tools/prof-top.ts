// Summarises a V8 .cpuprofile: top functions by self time and by total (inclusive) time.
//   node prof-top.js FILE.cpuprofile [N] [--span FN] [--window FROM:TO]
// --span prints the first and last sample time (µs, the monotonic clock every process's
// profile shares) whose stack holds FN; --window then limits another process's profile to
// that span, e.g. the sender's burst, so start-up and idle tails do not dilute it.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
const { values, positionals } = parseArgs({ allowPositionals: true, options: { span: { type: 'string' }, window: { type: 'string' } } })
const prof = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }
const top = Number(positionals[1] ?? 25)
const byId = new Map(prof.nodes.map(n => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const name = (n: Node): string => {
  const f = n.callFrame
  const file = f.url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, '~/')
    .replace(/.*\/work\/main\//, '')
  return `${f.functionName || '(anon)'} ${file}:${f.lineNumber + 1}`
}
const stackHas = (id: number, fn: string): boolean => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.functionName === fn) return true
  return false
}

// Sample i was taken at `at[i]` and stands for the time since the previous one.
const at: number[] = []
let t = prof.startTime
for (const d of prof.timeDeltas) {
  t += d
  at.push(t)
}

if (values.span !== undefined) {
  const hits = prof.samples.flatMap((id, i) => (stackHas(id, values.span!) ? [at[i]!] : []))
  console.log(
    hits.length === 0
      ? `no sample holds ${values.span}`
      : `${hits[0]}:${hits[hits.length - 1]}  (${((hits[hits.length - 1]! - hits[0]!) / 1000).toFixed(0)} ms, ${hits.length} samples)`
  )
  process.exit(0)
}
const [from, to] = values.window === undefined ? [-Infinity, Infinity] : (values.window.split(':').map(Number) as [number, number])

const selfUs = new Map<number, number>()
let all = 0
prof.samples.forEach((id, i) => {
  if (at[i]! < from || at[i]! > to) return
  const us = prof.timeDeltas[i] ?? 0
  all += us
  selfUs.set(id, (selfUs.get(id) ?? 0) + us)
})
const self = new Map<string, number>()
const total = new Map<string, number>()
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
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title} (profile ${(all / 1000).toFixed(0)} ms)`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}`)
}
print('self', self)
print('total', total)
