// scratch driver while building the suite (not part of npm run bench)
import { benchColdStart } from './measures/coldstart.js'
import { benchHistory } from './measures/history.js'
import { benchLatency, benchThroughput } from './measures/live.js'
import { benchMerge } from './measures/merge.js'
import { removeTempDirs } from './proc.js'
const [what, sys, a, b, c] = process.argv.slice(2)
try {
  if (what === 'history') console.log(await benchHistory(sys as never, Number(a), 3))
  if (what === 'latency') console.log(await benchLatency(sys as never, a as never, Number(b)))
  if (what === 'throughput') console.log(await benchThroughput(sys as never, a as never, Number(b), 3))
  if (what === 'merge') console.log(await benchMerge(sys as never, a as never, Number(b), 3))
  if (what === 'cold') console.log(await benchColdStart(sys as never, Number(a), Number(b), Number(c ?? 3)))
} finally { await removeTempDirs() }
