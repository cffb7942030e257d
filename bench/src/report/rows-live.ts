import type { ColdStartResult } from '../measures/coldstart.js'
import type { IdleCase, IdleResult } from '../measures/idle.js'
import type { LatencyResult, ThroughputResult } from '../measures/live.js'
import type { MergeResult } from '../measures/merge.js'
import type { Measured } from './measured.js'
import { ok, fmt, ms, cell, loadRange, k, joined, type Report } from './table.js'

/** (2) latency, (10) CPU per message, (3) throughput, (5) offline merge, (9) idle traffic, (4) cold start. */
export function liveRows(report: Report, m: Measured): void {
  const { push, verdict, rows } = report
  const { plan, want, interleave, latency, throughput, merge, idle, cold } = m
  if (want('latency')) {
    const lt = (r: LatencyResult): string => `${ms(r.p50)} / ${ms(r.p99)}${r.runs > 1 ? ` (p50 ${fmt(Math.min(...r.p50s), 2)}–${fmt(Math.max(...r.p50s), 2)})` : ''}`
    const [lr, lp] = [latency.get('tandem:server'), latency.get('tandem-plain:server')]
    push(
      [
        `(2) latency via the server, p50 / p99, median of ${plan.latencyRuns} runs (${plan.latency} msgs; automerge ${plan.latencyAm}, 1 run)`,
        cell(lr, lt),
        cell(latency.get('yws:server'), lt),
        cell(latency.get('am:server'), lt),
        joined(
          'target ≤ 1.0 / 5 ms and p50 ≤ y-websocket (issue 15; ≤ 2 / 10 ms: issue 14)',
          ok(lr) && ok(latency.get('yws:server')) ? `Tandem/y-ws p50 ${fmt(lr.p50 / (latency.get('yws:server') as LatencyResult).p50, 2)}×` : '',
          ok(lr) && ok(lp) ? `sealed/plain p50 ${fmt(lr.p50 / lp.p50, 2)}×, p99 ${fmt(lr.p99 / lp.p99, 2)}×` : ''
        )
      ],
      cell(lp, lt)
    )
    rows.push([`    Tandem direct on loopback, p50 / p99`, cell(latency.get('tandem:direct'), lt), '—', '—', 'target p50 ≤ 1 ms'])
    const fl = latency.get('floor:server')
    if (fl !== undefined)
      rows.push([
        `    the stack alone (floor: Tandem's libp2p stack, one sealed and signed frame a message through a server that only forwards)`,
        cell(fl, lt),
        '—',
        '—',
        ok(lr) && ok(fl) ? `Tandem/floor p50 ${fmt(lr.p50 / fl.p50, 2)}×, Tandem − floor ${ms(lr.p50 - fl.p50)}` : ''
      ])
    const cpuAll = (r: LatencyResult): number => r.cpuMsPerMsg.sender + r.cpuMsPerMsg.receiver + r.cpuMsPerMsg.server
    const lcpu = (r: LatencyResult): string => `${fmt(cpuAll(r), 2)} (${fmt(r.cpuMsPerMsg.sender, 2)} / ${fmt(r.cpuMsPerMsg.receiver, 2)} / ${fmt(r.cpuMsPerMsg.server, 2)})`
    const ly = latency.get('yws:server')
    push(
      [
        `(10) CPU ms per message sent one at a time via the server, all processes (sender / receiver / server): user + system from /proc over the counted messages of (2), control pipes included`,
        cell(lr, lcpu),
        cell(ly, lcpu),
        cell(latency.get('am:server'), lcpu),
        joined('target ≤ 1.1 ms', ok(lr) && ok(ly) ? `Tandem/y-ws ${fmt(cpuAll(lr) / cpuAll(ly), 2)}×` : '')
      ],
      cell(lp, lcpu)
    )
    if (fl !== undefined) rows.push([`    the stack alone (floor)`, cell(fl, lcpu), '—', '—', ok(lr) && ok(fl) ? `Tandem/floor ${fmt(cpuAll(lr) / cpuAll(fl), 2)}×` : ''])
    if (ok(lr)) verdict(`CPU per message sent one at a time, all processes ≤ 1.1 ms: ${fmt(cpuAll(lr), 2)} ms (${fmt(cpuAll(lr) / 1.1, 2)}×)`, cpuAll(lr) <= 1.1)
    const llo = (r: LatencyResult): string => loadRange(r.loads)
    push(
      [
        `    load average (1 min) before the runs`,
        cell(lr, llo),
        cell(latency.get('yws:server'), llo),
        cell(latency.get('am:server'), llo),
        interleave && ok(lp) ? 'Tandem runs interleaved' : ''
      ],
      cell(lp, llo)
    )
    const r = latency.get('tandem:server')
    const d = latency.get('tandem:direct')
    if (ok(r)) {
      verdict(`latency via relay p50 ≤ 2 ms: ${ms(r.p50)} (${fmt(r.p50 / 2, 2)}× the target)`, r.p50 <= 2)
      verdict(`latency via relay p99 ≤ 10 ms: ${ms(r.p99)} (${fmt(r.p99 / 10, 2)}×)`, r.p99 <= 10)
      verdict(`latency via relay p50 / p99 ≤ 1.0 / 5 ms (issue 15): ${ms(r.p50)} / ${ms(r.p99)}`, r.p50 <= 1 && r.p99 <= 5)
      const y = latency.get('yws:server')
      if (ok(y)) verdict(`latency via relay p50 ≤ y-websocket's (issue 15): ${ms(r.p50)} vs ${ms(y.p50)} (${fmt(r.p50 / y.p50, 2)}×)`, r.p50 <= y.p50)
    }
    if (ok(d)) verdict(`latency direct p50 ≤ 1 ms: ${ms(d.p50)} (${fmt(d.p50, 2)}×)`, d.p50 <= 1)
  }
  if (want('throughput')) {
    const tp = (r: ThroughputResult): string => `${fmt(r.msgPerSec)} msg/s`
    const [tr, tpl] = [throughput.get('tandem:server'), throughput.get('tandem-plain:server')]
    push(
      [
        `(3) throughput to 2 other devices via the server (${k(plan.throughput)} msgs; automerge ${k(plan.throughputAm)})`,
        cell(tr, tp),
        cell(throughput.get('yws:server'), tp),
        cell(throughput.get('am:server'), tp),
        joined('target ≥ 20,000 msg/s', ok(tr) && ok(tpl) ? `sealed/plain ${fmt(tr.msgPerSec / tpl.msgPerSec, 2)}×` : '')
      ],
      cell(tpl, tp)
    )
    rows.push([`    Tandem direct (LAN mesh on loopback)`, cell(throughput.get('tandem:direct'), tp), '—', '—', ''])
    const cpu = (r: ThroughputResult): string => `${fmt(r.cpuMsPer1k.total)} (${fmt(r.cpuMsPer1k.sender)} / ${fmt(r.cpuMsPer1k.receivers)} / ${fmt(r.cpuMsPer1k.server)})`
    push(
      [
        `    CPU ms per 1,000 msgs via the server: all (sender / 2 receivers / server)`,
        cell(throughput.get('tandem:server'), cpu),
        cell(throughput.get('yws:server'), cpu),
        cell(throughput.get('am:server'), cpu),
        ''
      ],
      cell(tpl, cpu)
    )
    const tlo = (r: ThroughputResult): string => loadRange(r.loads)
    push(
      [
        `    load average (1 min) before the runs`,
        cell(tr, tlo),
        cell(throughput.get('yws:server'), tlo),
        cell(throughput.get('am:server'), tlo),
        interleave && ok(tpl) ? 'Tandem runs interleaved' : ''
      ],
      cell(tpl, tlo)
    )
    for (const [key, label] of [
      ['tandem:server', 'via relay'],
      ['tandem:direct', 'direct']
    ] as const) {
      const r = throughput.get(key)
      if (ok(r)) verdict(`throughput ≥ 20,000 msg/s to two devices, ${label}: ${fmt(r.msgPerSec)} msg/s (${fmt(r.msgPerSec / 20_000, 3)}× the target)`, r.msgPerSec >= 20_000)
    }
  }
  if (want('merge')) {
    const mg = (r: MergeResult): string => ms(r.ms) + (r.fromRestoreMs !== undefined ? ` (${ms(r.fromRestoreMs)} from restore)` : '')
    rows.push([
      `(5) offline merge ${k(plan.merge)} + ${k(plan.merge)} (automerge ${k(plan.mergeAm)} each): time to converge via the server`,
      cell(merge.get('tandem:server'), mg),
      cell(merge.get('yws:server'), mg),
      cell(merge.get('am:server'), mg),
      ''
    ])
    rows.push([`    Tandem direct (dial)`, cell(merge.get('tandem:direct'), mg), '—', '—', ''])
    // issue 15: from the network's return, every system's own reconnect included
    const [mt, my, ma] = [merge.get('tandem:server'), merge.get('yws:cut'), merge.get('am:cut')]
    const restore = (r: MergeResult): string => ms(r.fromRestoreMs ?? r.ms)
    rows.push([
      `    the same through a network cut (a proxy closes every connection, then lets them back): from the network's return, each client's reconnect included (automerge ${plan.mergeAmCutRuns === 1 ? '1 run' : `median of ${plan.mergeAmCutRuns}`})`,
      cell(mt, restore),
      cell(my, restore),
      cell(ma, restore),
      joined(
        'target Tandem ≤ y-websocket',
        ok(mt) && ok(my) && mt.fromRestoreMs !== undefined ? `Tandem/y-ws ${fmt(mt.fromRestoreMs / my.ms, 2)}×` : '',
        ok(mt) && ok(merge.get('yws:server')) && mt.fromRestoreMs !== undefined
          ? `against y-ws reconnecting on command (row 5): ${fmt(mt.fromRestoreMs / (merge.get('yws:server') as MergeResult).ms, 2)}×`
          : ''
      )
    ])
    const mlo = (r: MergeResult): string => loadRange(r.loads)
    rows.push([`    load average (1 min) before the runs (the cut runs for the peers)`, cell(mt, mlo), cell(my, mlo), cell(ma, mlo), ''])
    if (ok(mt) && ok(my) && mt.fromRestoreMs !== undefined)
      verdict(
        `offline merge ${k(plan.merge)} + ${k(plan.merge)} through the relay from the network's return ≤ y-websocket's: ${ms(mt.fromRestoreMs)} vs ${ms(my.ms)} (${fmt(mt.fromRestoreMs / my.ms, 2)}×)`,
        mt.fromRestoreMs <= my.ms
      )
  }
  if (idle !== undefined) {
    const kb = (r: IdleResult): string => `${fmt(r.bytesPerMin / 1000, 2)} KB (${fmt(r.up)} ↑ / ${fmt(r.down)} ↓ B, ${fmt(r.readsPerMin, 1)} reads/min)`
    const at =
      (c: IdleCase) =>
      (r: Partial<Record<IdleCase, IdleResult>>): IdleResult | { error: string } =>
        r[c] ?? { error: 'not measured' }
    const ic = (c: IdleCase): IdleResult | { error: string } => (ok(idle) ? at(c)(idle) : (idle as { error: string }))
    const window = ok(idle) ? Object.values(idle)[0]?.windowS : undefined
    push(
      [
        `(9) an idle client's traffic with its server, per minute: TCP payload both ways over ${window !== undefined ? `${fmt(window)} s` : 'the window'} (beside the other sections), nothing sent or received`,
        cell(ic('tandem'), kb),
        cell(ic('yws'), kb),
        cell(ic('am'), kb),
        joined(
          'target ≤ 1 KB',
          ok(idle) && ok(ic('tandem')) && ok(ic('yws')) ? `Tandem/y-ws ${fmt((ic('tandem') as IdleResult).bytesPerMin / (ic('yws') as IdleResult).bytesPerMin, 2)}×` : ''
        )
      ],
      cell(ic('tandem-plain'), kb)
    )
    push(
      [`    Tandem with a second device of the account online (a sync session through the relay's circuit on the same connection)`, cell(ic('tandem+1'), kb), '—', '—', ''],
      cell(ic('tandem-plain+1'), kb)
    )
    const ilo = (r: IdleResult): string => `${fmt(r.cpuMsPerMin, 1)} ms; load ${fmt(r.load, 1)} → ${fmt(r.loadAtEnd, 1)}`
    push(
      [
        `    CPU of the case's processes per minute of the window (server, clients, proxy); load average (1 min) at its start → end`,
        cell(ic('tandem'), ilo),
        cell(ic('yws'), ilo),
        cell(ic('am'), ilo),
        'one window for all'
      ],
      cell(ic('tandem-plain'), ilo)
    )
    const t = ic('tandem')
    if (ok(t))
      verdict(`an idle device's traffic with its relay ≤ 1 KB a minute: ${fmt(t.bytesPerMin)} B over ${fmt(t.windowS)} s (${fmt(t.bytesPerMin / 1000, 3)}×)`, t.bytesPerMin <= 1000)
  }
  if (want('cold')) {
    const [t, y, a] = (['tandem', 'yws', 'am'] as const).map(s => cold.get(s))
    const c = plan.cold
    rows.push([
      `(4) cold start, ${k(c.chats * c.perChat)} msgs in ${k(c.chats)} chats: start → one chat's history served`,
      cell(t, (r: ColdStartResult) => ms(r.firstHistoryMs)),
      cell(y, (r: ColdStartResult) => ms(r.firstHistoryMs)),
      cell(a, (r: ColdStartResult) => ms(r.firstHistoryMs)),
      'target ≤ 1 s'
    ])
    rows.push([
      `    process start → listening`,
      cell(t, (r: ColdStartResult) => ms(r.readyMs)),
      cell(y, (r: ColdStartResult) => ms(r.readyMs)),
      cell(a, (r: ColdStartResult) => ms(r.readyMs)),
      ''
    ])
    rows.push([
      `    server RSS after start / after serving (MiB)`,
      cell(t, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
      cell(y, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
      cell(a, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
      'target ≤ 150 MB (1M msgs)'
    ])
    if (ok(t)) {
      verdict(
        `cold start: relay serves first history within 1 s of start (${k(c.chats * c.perChat)} msgs): ${ms(t.firstHistoryMs)} (${fmt(t.firstHistoryMs / 1000, 2)}×)`,
        t.firstHistoryMs <= 1000
      )
      verdict(
        `relay RSS ≤ 150 MB with ${k(c.chats * c.perChat)} stored messages: ${fmt(t.rssAfterMiB * 1.048576)} MB after serving (${fmt((t.rssAfterMiB * 1.048576) / 150, 2)}×)${c.chats * c.perChat < 1_000_000 ? ' — scaled down, run --full for 1M' : ''}`,
        t.rssAfterMiB * 1.048576 <= 150
      )
    }
  }
}
