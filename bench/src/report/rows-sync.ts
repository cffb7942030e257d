import type { AppLoadResult } from '../measures/app-load.js'
import type { BrowserHistoryResult } from '../measures/browser.js'
import type { HistoryResult } from '../measures/history.js'
import type { ScreenCase, ScreenCaseResult } from '../measures/screen.js'
import { PLAIN_COMMIT } from '../plain.js'
import type { Measured } from './measured.js'
import { ok, fmt, ms, cell, loadRange, k, ratio, joined, type Report } from './table.js'

/** (1) history to a new device (from the server, with others online, linked by code, in a browser, the chat app), (11)–(12) its first screen and memory. */
export function syncRows(report: Report, m: Measured): void {
  const { push, verdict, rows, showPlain } = report
  const { plan, want, interleave, screenAm, history, online, link, browserHistory, appLoad, screen } = m
  for (const n of want('history') ? plan.history : []) {
    const [t, p, y, a] = (['tandem', 'tandem-plain', 'yws', 'am'] as const).map(s => history.get(`${s}:${n}`))
    const time = (r: HistoryResult): string => ms(r.syncMs)
    const bytes = (r: HistoryResult): string => `${fmt(r.bytesDown / 2 ** 20, 2)} MiB (${fmt(r.bytesPerMessage, showPlain ? 1 : 0)} B)`
    const rss = (r: HistoryResult): string => `${fmt(r.clientPeakMiB)} / ${fmt(r.serverPeakMiB)}`
    const v = <T>(r: T | { error: string } | undefined, f: (x: T) => number): number | undefined => (ok(r) ? f(r) : undefined)
    push(
      [
        `(1) history sync from the server, N = ${k(n)}: time to all N`,
        cell(t, time),
        cell(y, time),
        cell(a, time),
        joined(
          ratio(
            'Tandem/y-ws',
            v(t, r => r.syncMs),
            v(y, r => r.syncMs)
          ),
          ratio(
            'sealed/plain',
            v(t, r => r.syncMs),
            v(p, r => r.syncMs)
          ),
          ratio(
            'plain/y-ws',
            v(p, r => r.syncMs),
            v(y, r => r.syncMs)
          )
        )
      ],
      cell(p, time)
    )
    push(
      [
        `    bytes server→client (per message)`,
        cell(t, bytes),
        cell(y, bytes),
        cell(a, bytes),
        joined(
          ratio(
            'Tandem/automerge',
            v(t, r => r.bytesPerMessage),
            v(a, r => r.bytesPerMessage)
          ),
          ratio(
            'sealed/plain',
            v(t, r => r.bytesDown),
            v(p, r => r.bytesDown)
          )
        )
      ],
      cell(p, bytes)
    )
    push([`    peak RSS client / server (MiB)`, cell(t, rss), cell(y, rss), cell(a, rss), ''], cell(p, rss))
    const runLoads = (r: HistoryResult): string => loadRange(r.loads)
    push([`    load average (1 min) before the timed runs`, cell(t, runLoads), cell(y, runLoads), cell(a, runLoads), interleave ? 'runs interleaved' : ''], cell(p, runLoads))

    if (n === 10_000 && ok(t) && ok(y))
      verdict(
        `history to a new device ≤ y-websocket's in the same run, N = ${k(n)} (issue 15): ${ms(t.syncMs)} vs ${ms(y.syncMs)} (${fmt(t.syncMs / y.syncMs, 2)}×)`,
        t.syncMs <= y.syncMs
      )
    if (ok(t)) verdict(`bytes per message of history ≤ 50 B, N = ${k(n)} (issue 15): ${fmt(t.bytesPerMessage, 1)} B (${fmt(t.bytesPerMessage / 50, 2)}×)`, t.bytesPerMessage <= 50)
    if (n >= 100_000 && ok(t) && ok(y))
      verdict(`history sync faster than y-websocket at N = ${k(n)}: Tandem/y-ws = ${fmt(t.syncMs / y.syncMs, 2)}× (${ms(t.syncMs)} vs ${ms(y.syncMs)})`, t.syncMs < y.syncMs)
    if (ok(t) && ok(a))
      verdict(
        `fewer bytes per message than automerge-repo (N = ${k(n)}): ${fmt(t.bytesPerMessage)} vs ${fmt(a.bytesPerMessage)} B = ${fmt(t.bytesPerMessage / a.bytesPerMessage, 2)}×`,
        t.bytesPerMessage < a.bytesPerMessage
      )
    if (ok(t) && ok(p)) {
      verdict(
        `history with encryption within 15 % of Tandem without (${PLAIN_COMMIT}), N = ${k(n)}: sealed/plain = ${fmt(t.syncMs / p.syncMs, 2)}× (${ms(t.syncMs)} vs ${ms(p.syncMs)})`,
        t.syncMs <= 1.15 * p.syncMs
      )
      verdict(
        `history bytes per message with encryption within 10 % of without, N = ${k(n)}: ${fmt(t.bytesPerMessage, 1)} vs ${fmt(p.bytesPerMessage, 1)} B = ${fmt(t.bytesDown / p.bytesDown, 3)}×`,
        t.bytesDown <= 1.1 * p.bytesDown
      )
    }
  }
  if (online !== undefined && ok(online)) {
    const alone = online.find(r => r.online === 0)
    for (const r of online) {
      const vs = alone === undefined || r === alone ? '' : ` (${fmt(r.syncMs / alone.syncMs, 2)}× / ${fmt(r.bytesDown / alone.bytesDown, 2)}× of none online)`
      rows.push([
        `(1c) history to a new device with ${r.online} other device${r.online === 1 ? '' : 's'} of the account online (circuits through the relay), N = ${k(r.n)}: time / bytes down`,
        `${ms(r.syncMs)} / ${fmt(r.bytesDown / 2 ** 20, 2)} MiB${vs}; ${loadRange(r.loads)}`,
        '—',
        '—',
        'target ≤ 1.1× of none online'
      ])
      if (alone !== undefined && r !== alone)
        verdict(
          `history comes once with ${r.online} online (N = ${k(r.n)}): ${fmt(r.syncMs / alone.syncMs, 2)}× time, ${fmt(r.bytesDown / alone.bytesDown, 2)}× bytes of none online`,
          r.syncMs <= 1.1 * alone.syncMs && r.bytesDown <= 1.1 * alone.bytesDown
        )
    }
  } else if (online !== undefined) rows.push(['(1c) history to a new device with other devices online', cell(online, () => ''), '—', '—', ''])
  if (link !== undefined && ok(link)) {
    const both = (t: { newestMs: number; allMs: number }): string => `${ms(t.newestMs)} / ${ms(t.allMs)}`
    const none = 'no linking'
    rows.push([
      `(1d) a new device linked by code via the relay, N = ${k(link.n)}, median of ${link.runs}: the person confirms → newest message shown / all N`,
      `${both(link.code)}; ${loadRange(link.loads)}`,
      none,
      none,
      `by code / by grant: ${fmt(link.ratioNewest, 2)}× / ${fmt(link.ratioAll, 2)}× (no peer links devices)`
    ])
    rows.push([`    the same device joining by grant (acceptGrant: no code, nothing to confirm), same runs`, both(link.grant), '—', '—', ''])
    rows.push([
      `    confirm → the new device linked / the existing device's linkDevice resolved`,
      `${ms(link.code.linkedMs ?? Number.NaN)} / ${ms(link.code.linkDeviceMs ?? Number.NaN)}`,
      '—',
      '—',
      ''
    ])
    const conn = (x: number): string => (x < 0 ? `${ms(-x)} before` : Number.isNaN(x) ? 'not seen' : ms(x))
    rows.push([
      `    the new device's store connection to the relay, from the start: by code / by grant; the backfill (entries, bytes)`,
      `${conn(link.code.relayMs)} / ${conn(link.grant.relayMs)}; ${fmt(link.code.entries)} entries, ${fmt(link.code.bytes / 2 ** 20, 2)} MiB`,
      '—',
      '—',
      ''
    ])
  } else if (link !== undefined) rows.push(['(1d) a new device linked by code via the relay', cell(link, () => ''), '—', '—', ''])
  for (const [n, r] of browserHistory) {
    rows.push([
      `(1b) history sync to a browser device (Chromium, WebSockets) beside a Node device, N = ${k(n)}, median of ${plan.browserRuns}`,
      cell(r, (x: BrowserHistoryResult) => `${ms(x.browserMs)} browser / ${ms(x.nodeMs)} Node`),
      '—',
      '—',
      'target browser ≤ 1.5× Node'
    ])
    if (ok(r)) verdict(`history to a browser device within 1.5× of a Node device, N = ${k(n)}: ${fmt(r.ratio, 2)}× (${ms(r.browserMs)} vs ${ms(r.nodeMs)})`, r.ratio <= 1.5)
  }
  if (appLoad !== undefined) {
    rows.push([
      `(1e) the chat app (apps/chat) loaded on a browser device holding ${k(plan.app)} messages: chat list shown from navigation / the chat's newest 50 from the click / each next 50 scrolled back, 20 pages (slowest; longest task meanwhile) / a key pressed at each page: its wait for the page (longest), median of ${plan.appRuns}`,
      cell(
        appLoad,
        (x: AppLoadResult) => `${ms(x.listMs)} / ${ms(x.chatMs)} / ${ms(x.olderMs)} (${ms(x.olderMaxMs)}; ${ms(x.longestTaskMs)}) / ${ms(x.keyMs)} (${ms(x.keyMaxMs)})`
      ),
      '—',
      '—',
      'target list ≤ 1 s'
    ])
    if (ok(appLoad)) verdict(`the chat app interactive within 1 s on a device holding ${k(plan.app)} messages: ${ms(appLoad.listMs)}`, appLoad.listMs <= 1_000)
  }
  if (screen !== undefined) {
    const n = plan.screen
    const sc = (c: ScreenCase): ScreenCaseResult | { error: string } | undefined => (ok(screen) ? screen.cases[c] : screen)
    const [t, tr, y, a] = (['tandem', 'tandem-recent', 'yws', 'am'] as const).map(sc)
    const amCell = (f: (r: ScreenCaseResult) => string): string => (screenAm ? cell(a, f) : `not run at ${k(n)}`)
    const count = ok(screen) ? screen.screen : 50
    const settleS = ok(screen) ? fmt(screen.settleMs / 1000) : '2'
    const scaled = n < 1_000_000 ? " (quick: scaled down from the issue's 1M, --full for it)" : ''
    const first = (r: ScreenCaseResult): string => ms(r.screenMs)
    rows.push([
      `(11) newest ${count} messages on screen on a new device from the server alone, chat of ${k(n)}${scaled}, median of ${plan.screenRuns}${screenAm && plan.screenAmRuns !== plan.screenRuns ? ` (automerge-repo ${plan.screenAmRuns})` : ''}: Tandem join → wait-screen (all N in brackets); the peers have no partial history: their first screen is the whole sync (all N)`,
      cell(t, r => `${first(r)} (all ${r.allMs === undefined ? '?' : ms(r.allMs)})`),
      cell(y, first),
      amCell(first),
      joined('target ≤ 100 ms', ok(t) && ok(y) ? `Tandem/y-ws ${fmt(t.screenMs / y.screenMs, 3)}×` : '')
    ])
    rows.push([
      `    Tandem --history recent (a metered device: only the newest two segments by itself): first screen / those two in (segments fetched of the chat's, messages held)`,
      cell(tr, r => `${first(r)} / ${r.historyMs === undefined ? '?' : ms(r.historyMs)} (${r.segmentsFetched ?? '?'} of ${r.segments ?? '?'}, ${fmt(r.count)} msgs)`),
      '—',
      '—',
      ''
    ])
    rows.push([
      `    Tandem: where the first screen's time went, ms from join (median): accept-grant answered / store connection to the relay up / backfills caught up: account doc, chat doc (the segment index), newest segment`,
      cell(t, r => (r.phases === undefined ? '?' : [r.phases.joinedMs, r.phases.relayMs, ...r.phases.caughtUpMs].map(x => (x === undefined ? '?' : fmt(x))).join(' / '))),
      '—',
      '—',
      ''
    ])
    const mem = (r: ScreenCaseResult): string => `${fmt(r.rssMiB)} / ${fmt(r.peakMiB)}`
    rows.push([
      `(12) the new device's RSS holding the chat of ${k(n)}, showing the newest: ${settleS} s after the whole history is in (Tandem: the history event with every segment fetched, and wait-messages N) / peak RSS (MiB)`,
      cell(t, mem),
      cell(y, mem),
      amCell(mem),
      joined(`target ≤ 150 MB (143 MiB)${n < 1_000_000 ? ' at 1M' : ''}`, 'peers: the client, no local store')
    ])
    rows.push([`    Tandem --history recent: RSS ${settleS} s after its two segments are in / peak (MiB)`, cell(tr, mem), '—', '—', ''])
    const slo = (r: ScreenCaseResult): string => loadRange(r.loads)
    rows.push([`    load average (1 min) before the runs (Tandem; --history recent)`, `${cell(t, slo)}; ${cell(tr, slo)}`, cell(y, slo), amCell(slo), 'runs interleaved'])
    const scaledNote = n < 1_000_000 ? ' — scaled down, run --full for 1M' : ''
    if (ok(t)) {
      verdict(
        `newest ${count} messages on screen on a new device ≤ 100 ms, chat of ${k(n)} (issue 15): ${ms(t.screenMs)} (${fmt(t.screenMs / 100, 2)}×)${scaledNote}`,
        t.screenMs <= 100
      )
      verdict(
        `device RSS ≤ 150 MB holding a chat of ${k(n)}, showing the newest (issue 15): ${fmt(t.rssMiB * 1.048576)} MB (${fmt((t.rssMiB * 1.048576) / 150, 2)}×; peak ${fmt(t.peakMiB * 1.048576)} MB${ok(tr) ? `; --history recent ${fmt(tr.rssMiB * 1.048576)} MB, peak ${fmt(tr.peakMiB * 1.048576)} MB` : ''})${scaledNote}`,
        t.rssMiB * 1.048576 <= 150
      )
    }
  }
}
