import type { Measured } from './measured.js'
import { ok, fmt, ms, cell, k, type Report } from './table.js'

/** (11) read ticks, (14) people, (15) a big group, (13) search. */
export function peopleRows(report: Report, m: Measured): void {
  const { verdict, rows, loadCell } = report
  const { plan, ticks, people, group, search } = m
  if (ticks !== undefined) {
    rows.push([
      `(11) read tick on the account's other device via a relay (processes), ${ok(ticks) ? ticks.count : plan.ticks} reads: p50 / p99`,
      cell(ticks, t => `${ms(t.p50)} / ${ms(t.p99)} (max ${ms(t.max)})`),
      '',
      '',
      `target p99 ≤ 50 ms; load ${loadCell('ticks')}`
    ])
    if (ok(ticks)) verdict(`read ticks on the account's other device within 50 ms at p99: ${ms(ticks.p99)}`, ticks.p99 <= 50)
  }
  if (people !== undefined) {
    const n = ok(people) ? people.count : plan.people
    rows.push([
      `(14) Alice's send → Bob's device, another account, via a relay (processes), ${n} messages: p50 / p99`,
      cell(people, r => `${ms(r.send.p50)} / ${ms(r.send.p99)} (max ${ms(r.send.max)}; pipe RTT ${ms(r.pipeRttMs)})`),
      '',
      '',
      `target p50 ≤ 2 ms, p99 ≤ 10 ms; load ${loadCell('people')}`
    ])
    rows.push([
      "    delivered tick on Alice's other device, from Bob's device showing it: p50 / p99",
      cell(people, r => `${ms(r.delivered.p50)} / ${ms(r.delivered.p99)} (max ${ms(r.delivered.max)})`),
      '',
      '',
      'target p99 ≤ 50 ms'
    ])
    rows.push([
      "    read tick on Alice's other device, from Bob's markRead: p50 / p99",
      cell(people, r => `${ms(r.read.p50)} / ${ms(r.read.p99)} (max ${ms(r.read.max)})`),
      '',
      '',
      'target p99 ≤ 50 ms'
    ])
    if (ok(people)) {
      verdict(
        `send to another account's device via the relay: p50 ${ms(people.send.p50)} ≤ 2 ms, p99 ${ms(people.send.p99)} ≤ 10 ms`,
        people.send.p50 <= 2 && people.send.p99 <= 10
      )
      verdict(
        `delivered and read ticks on the sender's other device within 50 ms at p99: ${ms(people.delivered.p99)} / ${ms(people.read.p99)}`,
        people.delivered.p99 <= 50 && people.read.p99 <= 50
      )
    }
  }
  if (group !== undefined) {
    const g = plan.group
    rows.push([
      `(15) a group of ${g.accounts} accounts × 2 devices (${g.processes} processes), one relay: relay CPU per message, median (from idle to idle: its fan-out and the delivered watermarks back included)`,
      cell(group, r => `${ms(r.relayCpuMsPerMsg)} (${r.messages} messages; setup ${fmt(r.setupS, 1)} s)`),
      '',
      '',
      `load ${loadCell('group')}`
    ])
    rows.push([
      `    fan-out: send → first / last of the ${2 * g.accounts - 1} other devices showing it, p50 (p99)`,
      cell(
        group,
        r =>
          `${ms(r.firstArrival.p50)} (${ms(r.firstArrival.p99)}) / ${r.fanOut === null ? 'never all' : `${ms(r.fanOut.p50)} (${ms(r.fanOut.p99)})`}; ${r.notEverywhere} not on all within 60 s`
      ),
      '',
      '',
      'every device a real engine on 2 shared cores'
    ])
    rows.push([
      `    send → the sender shows it delivered to all ${g.accounts - 1} other accounts, p50 (p99)`,
      cell(group, r => (r.deliveredAll === null ? `none within 60 s` : `${ms(r.deliveredAll.p50)} (${ms(r.deliveredAll.p99)}); ${r.deliveredCount}/${r.messages} within 60 s`)),
      '',
      '',
      ''
    ])
  }
  if (search !== undefined && ok(search)) {
    const r = search
    const mib = (b: number): string => `${fmt(b / 2 ** 20, 1)} MiB`
    rows.push([
      `(13) search over ${k(r.messages)} messages of one chat (MiniSearch, in-process, classic-level): engine.searchMessages, limit 50, ${r.query.count} queries (one word / two)`,
      `p50 ${ms(r.query.p50Ms)}, p99 ${ms(r.query.p99Ms)} (one word ${ms(r.query.oneWordP50Ms)} / two ${ms(r.query.twoWordP50Ms)}; ${fmt(r.query.meanHits, 1)} hits)`,
      '',
      '',
      `load ${loadCell('search')}`
    ])
    rows.push([
      '    index build: sending them all (indexed as they go) / the index catching up after the last send / a start, to the first answer (index built from the store; createEngine alone; event-loop delay during the build p99 / max)',
      `${ms(r.seedMs)} / ${ms(r.catchUpMs)} / ${ms(r.firstQueryMs)} (${ms(r.openMs)}; ${ms(r.buildLoopDelay.p99Ms)} / ${ms(r.buildLoopDelay.maxMs)})`,
      '',
      '',
      ''
    ])
    rows.push([
      '    not taken, a saved index (MiniSearch, same texts): bytes / build / save (JSON) / load, sync and async',
      `${mib(r.saved.bytes)} / ${ms(r.saved.buildMs)} / ${ms(r.saved.saveMs)} / ${ms(r.saved.loadMs)}, ${ms(r.saved.loadAsyncMs)}`,
      '',
      '',
      ''
    ])
  } else if (search !== undefined) rows.push(['(13) search', cell(search, () => ''), '', '', ''])
}
