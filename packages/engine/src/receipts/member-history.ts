import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type * as Y from 'yjs'

/**
 * Who a shared chat's members were at each version of its membership record, in the chat doc
 * (`members`: version → account ids), so that every device of every member reads the same.
 *
 * A message records the version its author held (MessageRecord.members); its recipients are
 * that version's members who are members still. Read against the members of now, an account
 * added to a group took back the ticks of everything written before it came: delivered became
 * sent again until its devices caught up (simulator, seed 20261131 with --people). The records
 * themselves do not serve: each device holds the versions it saw, and one added later holds
 * none of the earlier ones, so the same message showed other statuses on other members' devices.
 *
 * Written by every device that adopts a record (the same value whoever writes it), once per
 * version; a version not written yet reads as unknown, and the message's status waits for it.
 *
 * A version once read stays readable (`lastRead`): devices that adopt a record at once write
 * the same key concurrently, Yjs keeps one write and the others' states delete the rest, and
 * such a delete set applies at once while the write it goes with waits for an earlier update
 * of its device. The key then read as missing, and every message of that version fell back
 * from delivered to pending until the gap was filled (simulator seed 20261128 with --people).
 */
export class MemberHistory {
  private readonly versions: Y.Map<Uint8Array>

  /** What this doc's map last held at each version read (kept while a key reads as missing). */
  private readonly lastRead: Map<number, string[]>

  constructor(doc: Y.Doc) {
    this.versions = doc.getMap('members')
    let read = lastReadOf.get(this.versions)
    if (read === undefined) {
      read = new Map()
      lastReadOf.set(this.versions, read)
    }
    this.lastRead = read
  }

  /** The members at `version`, or null when this doc does not say yet. */
  at(version: number): string[] | null {
    const members = decodeMembers(this.versions.get(String(version)))
    if (members === null) return this.lastRead.get(version) ?? null
    this.lastRead.set(version, members)
    return members
  }

  /**
   * Records the members of `version` unless the doc holds them already (the caller's
   * transaction); `replace`: the record of that version the relay kept is another one (two
   * members changed the chat at once), and its members stand.
   */
  record(version: number, members: readonly string[], replace = false): void {
    const held = this.at(version)
    if (held !== null && (!replace || (held.length === members.length && held.every((m, i) => m === members[i])))) return
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, members.length)
    for (const m of members) encoding.writeVarString(enc, m)
    this.versions.set(String(version), encoding.toUint8Array(enc))
  }
}

/** Per chat doc's `members` map (a MemberHistory is made wherever one is needed): what each version last read as. */
const lastReadOf = new WeakMap<Y.Map<Uint8Array>, Map<number, string[]>>()

function decodeMembers(bytes: unknown): string[] | null {
  if (!(bytes instanceof Uint8Array)) return null
  try {
    const dec = decoding.createDecoder(bytes)
    const out: string[] = []
    for (let n = decoding.readVarUint(dec); n > 0; n--) out.push(decoding.readVarString(dec))
    return out
  } catch {
    return null // (bytes no device of this version writes: as unknown as a version not written)
  }
}
