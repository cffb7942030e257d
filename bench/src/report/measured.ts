import type { AppLoadResult } from '../measures/app-load.js'
import type { BrowserHistoryResult } from '../measures/browser.js'
import type { ColdStartResult } from '../measures/coldstart.js'
import type { GroupResult } from '../measures/group.js'
import type { HistoryResult } from '../measures/history.js'
import type { IdleCase, IdleResult } from '../measures/idle.js'
import type { LinkResult } from '../measures/link.js'
import type { LatencyResult, ThroughputResult } from '../measures/live.js'
import type { MergeResult } from '../measures/merge.js'
import type { OnlineHistoryResult } from '../measures/online.js'
import type { PeopleResult } from '../measures/people.js'
import type { ScaleResult } from '../measures/scale.js'
import type { ScreenResult } from '../measures/screen.js'
import type { SealResult } from '../measures/seal.js'
import type { SearchBenchResult } from '../measures/search.js'
import type { TicksResult } from '../measures/ticks.js'
import type { Plan } from '../plan.js'
import type { Outcome } from './table.js'

type Failed = { error: string }

/** What one run measured, section by section, for the table (a section not run is undefined or empty). */
export interface Measured {
  plan: Plan
  want: (section: string) => boolean
  /** Runs of the systems were taken in turns. */
  interleave: boolean
  /** automerge-repo was measured in the screen section (not at 1M). */
  screenAm: boolean
  /** By `system:size`. */
  history: Map<string, HistoryResult | Failed>
  online: Outcome<OnlineHistoryResult[]>
  link: Outcome<LinkResult>
  browserHistory: Map<number, BrowserHistoryResult | Failed>
  appLoad: Outcome<AppLoadResult>
  screen: Outcome<ScreenResult>
  /** By `system:server` / `system:direct`. */
  latency: Map<string, LatencyResult | Failed>
  throughput: Map<string, ThroughputResult | Failed>
  /** By `system:server`, `system:direct`, `system:cut`. */
  merge: Map<string, MergeResult | Failed>
  idle: Outcome<Partial<Record<IdleCase, IdleResult>>>
  cold: Map<string, ColdStartResult | Failed>
  scale: Outcome<ScaleResult>
  /** `tcp` and `yjs<N>`. */
  limits: Record<string, unknown>
  store: unknown
  sealing: Outcome<SealResult>
  ticks: Outcome<TicksResult>
  people: Outcome<PeopleResult>
  group: Outcome<GroupResult>
  search: Outcome<SearchBenchResult>
}
