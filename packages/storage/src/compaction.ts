/** A log of updates after a snapshot: what a compaction would fold into a new snapshot. */
export interface LogSize {
  entries: number
  bytes: number
  snapshotBytes: number
}

export interface CompactionLimits {
  /** Compact once the log holds this many entries (and a quarter of the snapshot's bytes)… */
  entries: number
  /** …or this many bytes, or the snapshot's size if larger. */
  bytes: number
}

/**
 * Whether to fold a log into a new snapshot. Compaction re-encodes the whole doc, so it
 * waits until the log holds a fair share of the snapshot's size: its cost per appended
 * byte stays constant as a doc grows (a fixed period of N updates made a long chat's
 * write path quadratic). Used for devices' local logs and for relay logs alike.
 */
export function compactionDue(log: LogSize, limits: CompactionLimits): boolean {
  if (log.bytes >= Math.max(limits.bytes, log.snapshotBytes)) return true
  return log.entries >= limits.entries && log.bytes >= log.snapshotBytes / 4
}

/**
 * Whether a compaction that was put off (to a quiet moment, so a burst of writes does not
 * pay for re-encoding the doc) can wait no longer: the log has grown to four times the
 * size that made it due.
 */
export function compactionOverdue(log: LogSize, limits: CompactionLimits): boolean {
  return compactionDue({ entries: log.entries / 4, bytes: log.bytes / 4, snapshotBytes: log.snapshotBytes }, limits)
}
