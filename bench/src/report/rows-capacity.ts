import type { benchYjs } from '../measures/limits.js'
import type { ScaleResult } from '../measures/scale.js'
import type { Measured } from './measured.js'
import { ok, fmt, ms, cell, k, type Report } from './table.js'

/** (6) the relay with many devices, (7) the machine's limits, the store's write rate, (8) sealing in-process. */
export function capacityRows(report: Report, m: Measured): void {
  const { verdict, rows, loadCell } = report
  const { plan, want, scale, limits, store, sealing } = m
  if (scale !== undefined) {
    rows.push([
      `(6) relay with ${ok(scale) ? fmt(scale.connected) : '?'} of ${fmt(plan.scale.devices)} devices connected, idle: RSS / CPU`,
      cell(scale, (r: ScaleResult) => `${fmt(r.idleRssMiB)} MiB / ${fmt(r.idleCpuPct, 1)} %`),
      '—',
      '—',
      'target ≤ 1 GB'
    ])
    rows.push([
      `    with ${plan.scale.active} of them sending 1 msg/s each: RSS / CPU`,
      cell(scale, (r: ScaleResult) => `${fmt(r.activeRssMiB)} MiB / ${fmt(r.activeCpuPct, 1)} % (${fmt(r.acked)}/${fmt(r.sent)} acked)`),
      '—',
      '—',
      ''
    ])
    if (ok(scale))
      verdict(
        `relay RSS ≤ 1 GB with ${fmt(scale.connected)} connected devices: ${fmt(Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576)} MB (${fmt((Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576) / 1000, 2)}×)`,
        Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576 <= 1000
      )
  }
  if (want('limits')) {
    const tcp = limits.tcp as { mbPerSec: number } | { error: string }
    rows.push([`(7) limit: raw TCP on loopback, one connection`, cell(tcp, r => `${fmt(r.mbPerSec)} MB/s`), '', '', ''])
    for (const n of plan.yjs) {
      const y = limits[`yjs${n}`] as ReturnType<typeof benchYjs> | { error: string }
      rows.push([`    Yjs in-process, ${k(n)} Tandem messages: encode / apply`, cell(y, r => `${ms(r.encodeMs)} / ${ms(r.applyMs)}`), '', '', ''])
      rows.push([
        `    Yjs bytes/msg: Tandem record v1 (v2) / deflated / brotli q4; peers' record v1`,
        cell(
          y,
          r =>
            `${fmt(r.bytesPerMessageV1)} (${fmt(r.bytesPerMessageV2)}) / ${fmt(r.bytesPerMessageDeflated)} / ${fmt(r.bytesPerMessageBrotli)} B; ${fmt(r.peerShapeBytesPerMessage)} B`
        ),
        '',
        '',
        ''
      ])
    }
  }
  if (ok(store as object)) {
    const s = store as { sequentialFsyncPerSec: number; concurrentFsyncPerSec: number; concurrentNoFsyncPerSec: number }
    rows.push([
      'Tandem store: sendMessage awaited / 256 in flight (fsync on) / 256 in flight (fsync off)',
      `${fmt(s.sequentialFsyncPerSec)} / ${fmt(s.concurrentFsyncPerSec)} / ${fmt(s.concurrentNoFsyncPerSec)} msg/s`,
      '',
      '',
      ''
    ])
  }

  if (sealing !== undefined && ok(sealing)) {
    const us = (x: number): string => (x >= 1000 ? `${fmt(x / 1000, x >= 10_000 ? 1 : 2)} ms` : x >= 100 ? `${fmt(x)} µs` : `${fmt(x, x >= 10 ? 1 : 2)} µs`)
    for (const c of sealing.cases) {
      const per = (x: number): string => (c.messages === 1 ? us(x) : `${us(x)} (${us(x / c.messages)}/msg)`)
      rows.push([
        `(8) sealing in-process, ${c.label}: update / envelope (compressed) / sealed bytes`,
        `${fmt(c.updateBytes)} / ${fmt(c.envelopeBytes)} / ${fmt(c.sealedBytes)} B (+${fmt(c.sealedBytes - c.envelopeBytes)} B${c.messages === 1 ? `, +${fmt((100 * (c.sealedBytes - c.envelopeBytes)) / c.envelopeBytes)} %` : ''})`,
        '',
        '',
        `median of ${c.rounds} rounds of ${c.iterations}; load ${loadCell('seal')}`
      ])
      for (const t of c.timings) {
        const name = t.signatures === 'webcrypto' ? 'WebCrypto Ed25519' : 'noble Ed25519'
        rows.push([`    ${name}: seal / open per blob (per message)`, `${per(t.us.seal)} / ${per(t.us.open)}`, '', '', `sign ${us(t.us.sign)} / verify ${us(t.us.verify)} of it`])
        rows.push([
          `    ${name}: BlobCodec encode / decode, and 4e8b2c9's (compress + envelope / inflate)`,
          `${per(t.us.encode)} / ${per(t.us.decode)}; plain ${us(t.us.plainEncode)} / ${us(t.us.plainDecode)}`,
          '',
          '',
          `sealed/plain ${fmt(t.us.encode / t.us.plainEncode, 2)}× / ${fmt(t.us.decode / t.us.plainDecode, 2)}×`
        ])
      }
    }
    if (!sealing.native) rows.push(['    (nativeSignatures() gave noble here: no WebCrypto Ed25519 in this runtime)', '', '', '', ''])
  } else if (sealing !== undefined) rows.push(['(8) sealing in-process', cell(sealing, () => ''), '', '', ''])
}
