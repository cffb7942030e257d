import type { LogSize } from '@tandem/storage'
import { describe, expect, it } from 'vitest'
import { RELAY_SNAPSHOT_LIMITS, RELAY_SNAPSHOT_LIMITS_FIRST_READ, SNAPSHOT_MAX_IN_FLIGHT, SnapshotPolicy, type PendingUpload } from '../src/relay/snapshot-policy.js'

const DOC = 'chat:c'
const KiB = 1024

/** The relay's log after its snapshot: long enough to advise a snapshot, or not. */
const longTail: LogSize = { entries: RELAY_SNAPSHOT_LIMITS.entries, bytes: 0, snapshotBytes: 0 }
const shortTail: LogSize = { entries: 1, bytes: 10, snapshotBytes: 0 }
/** A relay log with a snapshot of this size, and a tail as big as it (due for a new one). */
const withSnapshot = (snapshotBytes: number): LogSize => ({ entries: 1, bytes: snapshotBytes, snapshotBytes })

const upload = (bytes: number, docId = DOC): PendingUpload => ({ docId, blob: new Uint8Array(bytes) })

/** What happened before the question, in order. */
type Step =
  | { acked: number; bytes?: number; tail: LogSize }
  | { snapshotStarted: number }
  | { snapshotAcked: number; seq: number; tail: LogSize }
  | { dropped: number }
  | { relaySnapshotBytes: number }
  | 'connection lost'

function play(steps: Step[]): SnapshotPolicy {
  const policy = new SnapshotPolicy()
  for (const step of steps) {
    if (step === 'connection lost') policy.connectionLost()
    else if ('acked' in step) policy.appendAcked(DOC, step.acked, step.bytes ?? 100, step.tail)
    else if ('snapshotStarted' in step) policy.started(DOC, step.snapshotStarted)
    else if ('snapshotAcked' in step) policy.snapshotAcked(step.snapshotAcked, DOC, step.seq, step.tail)
    else if ('dropped' in step) policy.dropped(step.dropped)
    else policy.relaySnapshotSize(DOC, step.relaySnapshotBytes)
  }
  return policy
}

describe('SnapshotPolicy', () => {
  it.each<{ when: string; steps: Step[]; cursor: number; outbox?: PendingUpload[]; due: boolean }>([
    { when: 'the relay never advised one', steps: [{ acked: 5, tail: shortTail }], cursor: 5, due: false },
    { when: 'advised, and the cursor has reached the advice', steps: [{ acked: 5, tail: longTail }], cursor: 5, due: true },
    { when: 'advised, but the cursor is short of the advice', steps: [{ acked: 5, tail: longTail }], cursor: 4, due: false },
    { when: 'advised, with a little of ours in the outbox', steps: [{ acked: 5, tail: longTail }], cursor: 5, outbox: [upload(10 * KiB)], due: true },
    { when: 'advised, with more than 256 KiB of ours in the outbox', steps: [{ acked: 5, tail: longTail }], cursor: 5, outbox: [upload(SNAPSHOT_MAX_IN_FLIGHT + 1)], due: false },
    {
      when: 'advised, with much in the outbox but for another doc',
      steps: [{ acked: 5, tail: longTail }],
      cursor: 5,
      outbox: [upload(SNAPSHOT_MAX_IN_FLIGHT + 1, 'chat:other')],
      due: true
    },
    {
      when: 'advised, with more than 256 KiB of ours acked beyond the cursor',
      steps: [
        { acked: 5, tail: longTail },
        { acked: 6, bytes: SNAPSHOT_MAX_IN_FLIGHT + 1, tail: longTail }
      ],
      cursor: 5,
      due: false
    },
    {
      when: 'advised, once the cursor has passed our acked uploads',
      steps: [
        { acked: 5, tail: longTail },
        { acked: 6, bytes: SNAPSHOT_MAX_IN_FLIGHT + 1, tail: longTail }
      ],
      cursor: 6,
      due: true
    },
    {
      when: 'more than 256 KiB in flight, but under an eighth of a large relay snapshot',
      steps: [{ relaySnapshotBytes: 8 * 1024 * KiB }, { acked: 5, tail: withSnapshot(8 * 1024 * KiB) }],
      cursor: 5,
      outbox: [upload(512 * KiB)],
      due: true
    },
    {
      when: 'over an eighth of the relay snapshot',
      steps: [{ relaySnapshotBytes: 8 * 1024 * KiB }, { acked: 5, tail: withSnapshot(8 * 1024 * KiB) }],
      cursor: 5,
      outbox: [upload(1024 * KiB + 1)],
      due: false
    },
    { when: 'advised while a snapshot of the doc is on its way', steps: [{ snapshotStarted: 90 }, { acked: 5, tail: longTail }], cursor: 5, due: false },
    { when: 'advised, after the snapshot on its way was refused', steps: [{ snapshotStarted: 90 }, { acked: 5, tail: longTail }, { dropped: 90 }], cursor: 5, due: true },
    {
      when: 'advised, after the connection (and the snapshot on it) was lost',
      steps: [{ snapshotStarted: 90 }, { acked: 5, tail: longTail }, 'connection lost'],
      cursor: 5,
      due: true
    },
    {
      when: "our snapshot was acked and the relay's log is short since",
      steps: [{ acked: 5, tail: longTail }, { snapshotStarted: 90 }, { snapshotAcked: 90, seq: 5, tail: shortTail }],
      cursor: 5,
      due: false
    },
    {
      when: "our snapshot was acked and the relay's log is already long again",
      steps: [{ snapshotStarted: 90 }, { snapshotAcked: 90, seq: 7, tail: longTail }],
      cursor: 7,
      due: true
    }
  ])('is due: $due, when $when', ({ steps, cursor, outbox, due }) => {
    expect(play(steps).due(DOC, cursor, outbox ?? [])).toBe(due)
  })

  it('keeps the first advice of a burst rather than moving it to each later ack', () => {
    const policy = play([
      { acked: 5, tail: longTail },
      { acked: 9, tail: longTail }
    ])
    expect(policy.due(DOC, 5, [])).toBe(true)
  })

  it('takes the advice when it says a snapshot is due: it is not due again until the relay advises anew', () => {
    const policy = play([{ acked: 5, tail: longTail }])
    expect(policy.due(DOC, 5, [])).toBe(true)
    expect(policy.due(DOC, 5, [])).toBe(false)
    policy.appendAcked(DOC, 6, 100, longTail)
    expect(policy.due(DOC, 6, [])).toBe(true)
  })

  it('keeps the advice while too much is in flight, and says due once it has gone', () => {
    const policy = play([{ acked: 5, tail: longTail }])
    expect(policy.due(DOC, 5, [upload(SNAPSHOT_MAX_IN_FLIGHT + 1)])).toBe(false)
    expect(policy.due(DOC, 5, [])).toBe(true)
  })

  it.each<{ when: string; steps: Step[]; settled: boolean }>([
    { when: 'nothing happened', steps: [], settled: true },
    { when: 'the relay advised a snapshot not yet cut', steps: [{ acked: 5, tail: longTail }], settled: false },
    { when: 'a snapshot is on its way', steps: [{ snapshotStarted: 90 }], settled: false },
    { when: 'the snapshot was acked and the log is short', steps: [{ snapshotStarted: 90 }, { snapshotAcked: 90, seq: 5, tail: shortTail }], settled: true },
    { when: 'the snapshot on its way was refused', steps: [{ snapshotStarted: 90 }, { dropped: 90 }], settled: true }
  ])('is settled: $settled, when $when', ({ steps, settled }) => {
    expect(play(steps).settled).toBe(settled)
  })

  it("tells its own snapshots' acks from appends' acks, and each snapshot's once", () => {
    const policy = play([{ snapshotStarted: 90 }])
    expect(policy.isSnapshot(90)).toBe(true)
    expect(policy.isUnderWay(DOC)).toBe(true)
    expect(policy.snapshotAcked(91, DOC, 5, shortTail)).toBe(false)
    expect(policy.snapshotAcked(90, DOC, 5, shortTail)).toBe(true)
    expect(policy.snapshotAcked(90, DOC, 5, shortTail)).toBe(false)
    expect(policy.isUnderWay(DOC)).toBe(false)
  })

  it("advises a snapshot of the docs a new device reads before its first screen (the account's, a chat's own) after 32 entries, of a segment after 500", () => {
    const tail = (entries: number): LogSize => ({ entries, bytes: entries * 100, snapshotBytes: 0 })
    const advised = (docId: string, entries: number): boolean => {
      const policy = new SnapshotPolicy()
      policy.appendAcked(docId, entries, 100, tail(entries))
      return policy.due(docId, entries, [])
    }
    for (const docId of ['account:a', 'chat:c']) {
      expect(advised(docId, RELAY_SNAPSHOT_LIMITS_FIRST_READ.entries - 1), docId).toBe(false)
      expect(advised(docId, RELAY_SNAPSHOT_LIMITS_FIRST_READ.entries), docId).toBe(true)
    }
    expect(advised('chat:c:7', RELAY_SNAPSHOT_LIMITS_FIRST_READ.entries)).toBe(false)
    expect(advised('chat:c:7', RELAY_SNAPSHOT_LIMITS.entries)).toBe(true)
  })

  describe('a full segment', () => {
    const tail = (entries: number): LogSize => ({ entries, bytes: entries * 100, snapshotBytes: 0 })
    const [s1, s2, s3] = ['chat:c:1', 'chat:c:2', 'chat:c:3']

    it('is snapshotted once the last of ours in it is acked and the cursor reaches it', () => {
      const policy = new SnapshotPolicy()
      policy.wrote(s1)
      policy.appendAcked(s1, 20, 100, tail(20))
      expect(policy.due(s1, 20, [])).toBe(false) // (not full: 20 entries advise nothing)
      policy.wrote(s2) // the first message of segment 2: segment 1 is full
      const lastOfS1 = upload(100, s1)
      expect(policy.due(s1, 20, [lastOfS1])).toBe(false) // our last message of it is still on its way
      policy.appendAcked(s1, 22, 100, tail(21))
      expect(policy.due(s1, 21, [])).toBe(false) // the cursor has not reached our last ack
      expect(policy.due(s1, 22, [])).toBe(true)
      expect(policy.due(s1, 22, [])).toBe(false) // once
    })

    it('is snapshotted when the relay holds it as one entry (a burst, compressed for speed), not when it holds only a snapshot', () => {
      const policy = new SnapshotPolicy()
      policy.wrote(s1)
      policy.appendAcked(s1, 3, 100, tail(1))
      policy.wrote(s2)
      expect(policy.due(s1, 3, [])).toBe(true)
      const compact = new SnapshotPolicy()
      compact.wrote(s1)
      compact.appendAcked(s1, 3, 100, tail(0))
      compact.wrote(s2)
      expect(compact.due(s1, 3, [])).toBe(false)
    })

    it('is left alone when this device never wrote in it since it started', () => {
      // a device that starts writing in segment 3 knows nothing of 2's log: nothing to compact
      const later = new SnapshotPolicy()
      later.wrote(s3)
      expect(later.due(s2, 100, [])).toBe(false)
    })

    it('is not closed by a write in an older segment (an edit, a reaction)', () => {
      const policy = new SnapshotPolicy()
      policy.wrote(s2)
      policy.appendAcked(s2, 9, 100, tail(9))
      policy.wrote(s1)
      expect(policy.due(s2, 9, [])).toBe(false)
    })
  })
})
