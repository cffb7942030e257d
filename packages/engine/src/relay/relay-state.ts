import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { StoreCorruptError } from '../errors.js'
import type { DocStore } from '../store/doc-store.js'
import { decodeSv, encodeSv, mergeSv, type StateVector } from './state-vector.js'

/** What this device knows about one doc on one relay; persisted. */
export interface DocRelayState {
  /** Last relay seq this device holds everything up to (blob, echo or snapshot). */
  cursor: number
  /** State the relay's log holds or will hold once the outbox is acked: uploads diff against it. */
  uploaded: StateVector
  /** State the relay has acknowledged as durable (maybe not yet recorded on our disk). */
  acked: StateVector
  /** The part of `acked` already recorded on our disk: a message inside it is "sent". */
  ackedDurable: StateVector
}

/** A blob waiting for the relay's ack; resent byte-identical after a reconnect or restart. */
export interface OutboxEntry {
  uploadId: number
  docId: string
  blob: Uint8Array
  /** The doc's state vector when the blob was cut: `acked` rises to it on ack. */
  sv: StateVector
}

const docName = (relay: string, docId: string): string => `relay/${relay}/doc/${docId}`
const outPrefix = (relay: string): string => `relay/${relay}/out/`
const outName = (relay: string, docId: string, id: number): string => `${outPrefix(relay)}${id.toString(16).padStart(12, '0')}/${docId}`

/**
 * Persistence of the relay client: per doc its cursor and state vectors, and
 * the outbox. Every change is one atomic metadata batch, so a crash leaves the
 * outbox and `uploaded` consistent with each other.
 */
export class RelayState {
  private readonly docs = new Map<string, DocRelayState>()

  constructor(
    private readonly store: DocStore,
    readonly relayId: string
  ) {}

  async load(): Promise<OutboxEntry[]> {
    for (const [name, value] of await this.store.metaEntries(`relay/${this.relayId}/doc/`)) {
      this.docs.set(name.slice(`relay/${this.relayId}/doc/`.length), decodeDocState(value))
    }
    const outbox: OutboxEntry[] = []
    for (const [name, value] of await this.store.metaEntries(outPrefix(this.relayId))) {
      const rest = name.slice(outPrefix(this.relayId).length)
      const slash = rest.indexOf('/')
      outbox.push(decodeOutbox(parseInt(rest.slice(0, slash), 16), rest.slice(slash + 1), value))
    }
    // Damaged metadata was removed when the store opened, and it may have been an outbox
    // entry, whose blob `uploaded` counts as on its way: count only what the relay acked,
    // so the next upload cuts everything else again (what the relay has twice, Yjs merges).
    if (this.store.damage.records.some(r => r.docId === null)) for (const st of this.docs.values()) st.uploaded = new Map(st.acked)
    return outbox
  }

  doc(docId: string): DocRelayState {
    let s = this.docs.get(docId)
    if (s === undefined) {
      s = { cursor: 0, uploaded: new Map(), acked: new Map(), ackedDurable: new Map() }
      this.docs.set(docId, s)
    }
    return s
  }

  /**
   * Persists a doc's state, plus outbox additions and removals, atomically. Once on disk,
   * what `acked` held at the call becomes `ackedDurable`: a status never outruns the disk.
   */
  async save(docId: string, add: OutboxEntry[] = [], remove: OutboxEntry[] = []): Promise<void> {
    const st = this.doc(docId)
    const acked = new Map(st.acked)
    const changes: Array<[string, Uint8Array | null]> = [[docName(this.relayId, docId), encodeDocState(st)]]
    for (const e of add) changes.push([outName(this.relayId, e.docId, e.uploadId), encodeOutbox(e)])
    for (const e of remove) changes.push([outName(this.relayId, e.docId, e.uploadId), null])
    await this.store.writeMeta(changes)
    mergeSv(st.ackedDurable, acked)
  }
}

function encodeDocState(s: DocRelayState): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, s.cursor)
  encoding.writeVarUint8Array(enc, encodeSv(s.uploaded))
  encoding.writeVarUint8Array(enc, encodeSv(s.acked))
  return encoding.toUint8Array(enc)
}

function decodeDocState(bytes: Uint8Array): DocRelayState {
  try {
    const dec = decoding.createDecoder(bytes)
    const cursor = decoding.readVarUint(dec)
    const uploaded = decodeSv(decoding.readVarUint8Array(dec))
    const acked = decodeSv(decoding.readVarUint8Array(dec))
    return { cursor, uploaded, acked, ackedDurable: new Map(acked) }
  } catch (err) {
    throw new StoreCorruptError('relay cursor state is unreadable', { cause: err })
  }
}

function encodeOutbox(e: OutboxEntry): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint8Array(enc, encodeSv(e.sv))
  encoding.writeVarUint8Array(enc, e.blob)
  return encoding.toUint8Array(enc)
}

function decodeOutbox(uploadId: number, docId: string, bytes: Uint8Array): OutboxEntry {
  try {
    const dec = decoding.createDecoder(bytes)
    return { uploadId, docId, sv: decodeSv(decoding.readVarUint8Array(dec)), blob: decoding.readVarUint8Array(dec) }
  } catch (err) {
    throw new StoreCorruptError('relay outbox entry is unreadable', { cause: err })
  }
}
