// What `npm run bench` measures and how often: the quick plan (< 3 minutes) and the full one
// (`--full`), adjusted by `--history-sizes` and `--runs`. Where quick scales a measure down,
// the table says so.

const FULL_PLAN = {
  history: [10_000, 100_000],
  historyRuns: 3,
  millionRuns: 1, // 1,000,000 on request (--history-sizes): see the README
  online: { n: 100_000, counts: [0, 1, 3] },
  link: 100_000,
  browser: [10_000, 100_000],
  browserRuns: 3,
  app: 100_000, // the device "that already holds 100,000 messages"
  appRuns: 3,
  screen: 1_000_000, // issue 15's chat: seeding it takes minutes
  screenRuns: 3,
  screenAmRuns: 3, // (not run at 1M)
  latency: 1_000,
  latencyAm: 1_000,
  latencyRuns: 3,
  throughput: 20_000,
  throughputAm: 5_000,
  throughputRuns: 5,
  merge: 10_000,
  mergeAm: 10_000,
  mergeRuns: 3,
  mergeAmCutRuns: 3,
  idleWindowS: 60,
  cold: { chats: 1_000, perChat: 1_000 },
  coldRuns: 3,
  scale: { devices: 1_000, processes: 5, active: 100, intervalMs: 1_000, windowS: 30 },
  tcpBytes: 1024 * 2 ** 20,
  yjs: [10_000, 100_000],
  seal: { snapshot: 100_000, rounds: 5, liveCalls: 500 },
  ticks: 1_000,
  search: { messages: 100_000, queries: 400 },
  people: 1_000,
  group: { accounts: 50, processes: 4, messages: 20 }
}

export type Plan = typeof FULL_PLAN

const QUICK_PLAN: Plan = {
  history: [10_000],
  historyRuns: 3,
  millionRuns: 1,
  online: { n: 10_000, counts: [0, 1, 3] },
  link: 100_000, // the figure (seeding 100k takes ~10 s)
  browser: [10_000],
  browserRuns: 3,
  app: 100_000, // the figure (seeding 100k takes ~10 s, filling the browser ~2 s)
  appRuns: 3,
  screen: 20_000, // scaled down from the 1,000,000 (the table says so)
  screenRuns: 3,
  screenAmRuns: 1, // ~4 s a run
  latency: 200,
  latencyAm: 50,
  latencyRuns: 3,
  throughput: 2_000,
  throughputAm: 500,
  throughputRuns: 3,
  merge: 1_000,
  mergeAm: 500,
  mergeRuns: 3,
  mergeAmCutRuns: 1, // ~10 s a run
  idleWindowS: 60,
  cold: { chats: 10, perChat: 1_000 },
  coldRuns: 3,
  scale: { devices: 100, processes: 2, active: 10, intervalMs: 1_000, windowS: 10 },
  tcpBytes: 256 * 2 ** 20,
  yjs: [10_000],
  seal: { snapshot: 50_000, rounds: 3, liveCalls: 200 },
  ticks: 200,
  search: { messages: 100_000, queries: 200 }, // the figure (seeding 100k in-process takes ~20–40 s)
  people: 200,
  group: { accounts: 50, processes: 4, messages: 5 } // the 50 accounts (run with --full or --only group); each message waits for the relay to be idle again
}

/** The plan for this run: quick or full, with the sizes and run counts the options ask for. */
export function planFor(full: boolean, historySizes: string | undefined, runsOption: string | undefined): Plan {
  const plan: Plan = structuredClone(full ? FULL_PLAN : QUICK_PLAN)
  if (historySizes !== undefined) plan.history = historySizes.split(',').map(Number)
  if (runsOption !== undefined) {
    const runs = Number(runsOption)
    if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1')
    Object.assign(plan, {
      historyRuns: runs,
      browserRuns: runs,
      appRuns: runs,
      screenRuns: runs,
      screenAmRuns: runs,
      latencyRuns: runs,
      throughputRuns: runs,
      mergeRuns: runs,
      mergeAmCutRuns: runs,
      coldRuns: runs
    })
  }
  return plan
}
