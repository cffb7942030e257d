// The bench's table: rows of five cells (measure, Tandem, y-websocket, automerge-repo, target
// or ratio; tandem-plain's cell beside them when it ran), the verdicts against the issues'
// targets, and the cell formats every section's rows share.

export type Row = [string, string, string, string, string]
/** A measurement's outcome: its result, the failure recorded instead, or undefined when not run. */
export type Outcome<T> = T | { error: string } | undefined

export const ok = <T>(r: Outcome<T>): r is T => r !== undefined && !(typeof r === 'object' && r !== null && 'error' in r)
export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
export const ms = (x: number): string => (x < 10 ? `${fmt(x, 2)} ms` : `${fmt(x)} ms`)
export const cell = <T>(r: Outcome<T>, f: (r: T) => string): string => (r === undefined ? '—' : ok(r) ? f(r) : `failed (${r.error.slice(0, 60)})`)
export const loadRange = (xs: number[]): string => {
  const [lo, hi] = [fmt(Math.min(...xs), 1), fmt(Math.max(...xs), 1)]
  return `load ${lo}${hi !== lo ? `–${hi}` : ''}`
}
export const k = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n))
export const ratio = (label: string, a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '' : `${label} ${fmt(a / b, 2)}×`)
export const joined = (...xs: string[]): string => xs.filter(Boolean).join('; ')

const HEADER: Row = ['measure', 'Tandem', 'y-websocket', 'automerge-repo', 'target / ratio']

/** The rows and verdicts of one run, as its sections add them. */
export class Report {
  readonly rows: Row[] = []
  readonly verdicts: string[] = []
  /** tandem-plain's cell of a row (a column of its own, shown only when it ran). */
  private readonly plainCells = new Map<Row, string>()

  constructor(
    readonly showPlain: boolean,
    /** The 1-minute load average before each section that records one. */
    private readonly loads: ReadonlyMap<string, number>
  ) {}

  readonly push = (row: Row, plainCell = '—'): void => {
    this.rows.push(row)
    this.plainCells.set(row, plainCell)
  }

  readonly verdict = (text: string, met: boolean | null): void => {
    this.verdicts.push(`${met === null ? '?' : met ? 'MET' : 'MISSED'}  ${text}`)
  }

  readonly loadCell = (name: string): string => (this.loads.has(name) ? fmt(this.loads.get(name)!, 1) : '—')

  /** The table in Markdown; with tandem-plain (named `plainName`), its column comes second. */
  markdown(plainName: string): string {
    const shown = (r: Row): string[] => (this.showPlain ? [r[0], r[1], this.plainCells.get(r) ?? (r === HEADER ? plainName : ''), ...r.slice(2)] : r)
    return [
      `| ${shown(HEADER).join(' | ')} |`,
      `| ${shown(HEADER)
        .map(() => '---')
        .join(' | ')} |`,
      ...this.rows.map(
        r =>
          `| ${shown(r)
            .map(c => c.replace(/\|/g, '\\|'))
            .join(' | ')} |`
      )
    ].join('\n')
  }
}
