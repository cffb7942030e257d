#!/usr/bin/env node
// npm run sim -- --seed S     replay one seed exactly, printing its trace
// npm run sim -- --seeds N    soak: N seeds from a random start (or --from S)
import '@tandem/engine/polyfill'
import { Command, Option } from 'commander'
import { BUGS, type Bug } from './bugs.js'
import { runSeed } from './run-seed.js'

const opts = new Command('tandem-sim')
  .addOption(new Option('--seed <n>', 'replay this seed and print its trace').argParser(Number))
  .addOption(new Option('--seeds <n>', 'run this many seeds').argParser(Number))
  .addOption(new Option('--from <n>', 'first seed of a soak').argParser(Number))
  .addOption(new Option('--bug <name>', `inject a known bug (${BUGS.join(', ')})`).choices(BUGS))
  .addOption(new Option('--no-chain', 'without the device-chain workload (linking, revocations)'))
  .addOption(new Option('--people', 'with the workload between accounts (invites, groups, members, reads, edits, reactions, deletes)'))
  .parse(process.argv)
  .opts<{ seed?: number; seeds?: number; from?: number; bug?: Bug; chain: boolean; people?: boolean }>()

const bugs = opts.bug === undefined ? [] : [opts.bug]
if (opts.seed !== undefined) {
  const r = await runSeed(opts.seed, { trace: true, bugs, chain: opts.chain, people: opts.people === true })
  console.log(r.trace.join('\n'))
  console.log(JSON.stringify(r.stats))
  console.log(r.ok ? `seed ${r.seed}: ok` : `seed ${r.seed}: FAILED\n  ${r.violations.join('\n  ')}\n  replay: ${r.replay}`)
  process.exit(r.ok ? 0 : 1)
}
const count = opts.seeds ?? 100
const from = opts.from ?? Math.floor(Math.random() * 2 ** 31)
const t0 = performance.now()
let failed = 0
for (let i = 0; i < count; i++) {
  const seed = (from + i) % 2 ** 31
  const r = await runSeed(seed, { bugs, chain: opts.chain, people: opts.people === true })
  if (!r.ok) {
    failed++
    console.log(`seed ${seed} FAILED: ${r.violations[0]}\n  replay: ${r.replay}`)
  }
}
const s = (performance.now() - t0) / 1000
console.log(`${count - failed} passed, ${failed} failed (seeds ${from}…${from + count - 1}; ${(count / s).toFixed(1)} seeds/s)`)
process.exit(failed === 0 ? 0 : 1)
