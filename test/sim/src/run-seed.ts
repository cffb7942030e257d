import type { ChatEntry } from '@tandem/engine'
import { injectBug, type Bug } from './bugs.js'
import { ChainWatch } from './chain-invariants.js'
import { ChainWorkload } from './chain-workload.js'
import { endPhases } from './end-phases.js'
import { dedupe, finalState, safeChats } from './final-state.js'
import { checkFinal } from './invariants.js'
import { RemovalWatch } from './people-invariants.js'
import { PeopleWorkload } from './people-workload.js'
import { CALM } from './network.js'
import { Rng } from './rng.js'
import { LivelockError, Scheduler } from './scheduler.js'
import { SealWatch } from './sealing-invariants.js'
import { SimKeys } from './sim-keys.js'
import { StepInvariants } from './step-invariants.js'
import { StorageFaults } from './storage-faults.js'
import { Tracker } from './tracker.js'
import { actionTable, partition, pickLive, weather, type Action } from './workload.js'
import { World, type DeviceNode } from './world.js'

export interface SeedOptions {
  /** Known bugs to inject (teeth tests). */
  bugs?: Bug[]
  /** Keep the full event trace (the replay command prints it). */
  trace?: boolean
  /** The device-chain workload (default on); off, a seed runs as before it (teeth of bugs elsewhere, older regressions). */
  chain?: boolean
  /** The workload between accounts (issue 16: invites, groups, members, reads, edits, reactions, deletes); off (the default for now), a seed runs as before it. */
  people?: boolean
}

export interface SeedResult {
  seed: number
  ok: boolean
  violations: string[]
  trace: string[]
  stats: {
    accounts: number
    devices: number
    actions: number
    messages: number
    crashes: number
    virtualMs: number
    faultRate: number
    steps: number
    acks: number
    /** Storage faults injected (flipped bytes, torn reads). */
    damaged: number
    /** Device-chain workload: devices it linked, revocations, mutual revocations (pairs); devices that erased themselves. */
    chain: { links: number; revocations: number; mutual: number; erased: number }
    /** People workload: invites accepted, groups made, removals asked, actions; removals the relay stored. */
    people: { invites: number; groups: number; removals: number; actions: number; relayRemovals: number }
    /** Relay appends (entries, snapshots) made after a revocation, opened with a revoked device's keys (one per such device of the account). */
    sealChecks: number
  }
  /** Every running device's chats and messages (ids, texts, statuses) and Yjs state vectors, and the relay's counts: what a replay must reproduce. */
  finalState: string
  /** The command that replays this run with its trace. */
  replay: string
}

/** The command that replays one seed (with the bugs it injected). */
export const replayCommand = (seed: number, bugs: readonly Bug[] = [], chain = true, people = false): string =>
  `npm run sim -- --seed ${seed}${bugs.map(b => ` --bug ${b}`).join('')}${chain ? '' : ' --no-chain'}${people ? ' --people' : ''}`

/** Virtual time the liveness phase may take to converge once every fault is healed. */
const RECONNECT_EVERY_MS = 250

/**
 * One seed, two phases. Safety: the workload runs with faults on (the seed picks
 * the world, the fault rates and every fault). Liveness: everything heals and
 * the system must converge within a bounded virtual time. Then the invariants.
 */
export async function runSeed(seed: number, options: SeedOptions = {}): Promise<SeedResult> {
  const root = new Rng(seed)
  const netRng = root.child()
  const workRng = root.child()
  const faultRng = root.child()
  const bugRng = root.child()
  // the device chain's workload draws from a stream of its own: the seeds' other choices stay where they were
  const chainRng = root.child()
  // and so does the workload between accounts
  const peopleRng = root.child()
  const people = options.people === true
  const sched = new Scheduler()
  const tracker = new Tracker()
  const trace: string[] = []
  const note = (line: string): void => {
    if (options.trace === true || trace.length < 400) trace.push(`${(sched.now / 1000).toFixed(3).padStart(8)}s  ${line}`)
  }
  const undo = (options.bugs ?? []).map(b => injectBug(b, bugRng))
  const world = new World(sched, netRng, tracker, note)
  // every invariant that can be checked mid-run is checked after every step
  const invariants = new StepInvariants(seed, world, tracker)
  const chainWatch = new ChainWatch(world, tracker)
  const keys = new SimKeys(world)
  const sealWatch = new SealWatch(world, tracker, chainWatch, keys)
  const removalWatch = new RemovalWatch(world, tracker, chainWatch)
  const storage = new StorageFaults(tracker, world.relay.disk, keys, () => invariants.where())
  world.storeFor = (d, store) => storage.wrap(d, store)
  sched.afterStep = async step => {
    await invariants.check(step)
    await chainWatch.check()
    await keys.capture()
    await sealWatch.check()
    storage.check()
  }
  const faultRate = faultRng.pick([0, 0.5, 1, 1, 2])
  const skews = faultRng.chance(0.5)
  world.lan = !workRng.chance(0.3)
  const stats = {
    accounts: workRng.int(2, 3),
    devices: 0,
    actions: workRng.int(30, 90),
    messages: 0,
    crashes: 0,
    virtualMs: 0,
    faultRate,
    steps: 0,
    acks: 0,
    damaged: 0,
    chain: { links: 0, revocations: 0, mutual: 0, erased: 0 },
    people: { invites: 0, groups: 0, removals: 0, actions: 0, relayRemovals: 0 },
    sealChecks: 0
  }
  note(
    `seed ${seed}: ${stats.accounts} accounts, fault rate ${faultRate}, clock skew ${skews ? 'on' : 'off'}, ${world.lan ? 'devices share a LAN' : 'no LAN: devices meet only through the relay'}`
  )
  let messageNo = 0
  const pending: Array<Promise<unknown>> = []
  /**
   * Starts a device again. A store whose identity is damaged must refuse to open with
   * ERR_STORE_CORRUPT (never come up as a new device); its user then sets the device up again:
   * a new node, a new store, joining the account.
   */
  const restart = async (d: DeviceNode): Promise<void> => {
    try {
      await world.startDevice(d)
      if (storage.identityLost.has(d)) tracker.violations.push(`identity ${invariants.where()}: ${d.name} opened although its identity record is damaged`)
    } catch (err) {
      if (d.revoked) return // revoked while it was down: it erased the account at open (World marked it)
      if ((err as { code?: string }).code !== 'ERR_STORE_CORRUPT') throw err
      if (!storage.identityLost.has(d))
        tracker.violations.push(`identity ${invariants.where()}: ${d.name} refused to open (${(err as Error).message}), but no fault damaged its identity`)
      d.retired = true
      const again = world.addDevice(d.account, d.skewMs)
      stats.devices++
      note(`${d.name}: ERR_STORE_CORRUPT (${(err as Error).message}); set up again as ${again.name}`)
      await world.startDevice(again)
      pending.push(world.join(again)?.catch(() => {}) ?? Promise.resolve()) // (or at a later tick, once a device of the account is up)
    }
  }
  /** A device joins its account now: a device of it must be up to list it. */
  const joined = async (d: DeviceNode): Promise<void> => {
    const attempt = world.join(d)
    if (attempt === null) throw new Error(`${d.name} cannot join account ${d.account}: no device of it is up to list it`)
    await attempt
  }
  /** A new device of the account starts and joins it by grant (now, or at a later tick once a device of the account is up). */
  const linkNew = async (account: number, skewRng: Rng): Promise<void> => {
    const d = world.addDevice(account, skews ? skewRng.int(-5000, 5000) : 0)
    stats.devices++
    note(`link a new device ${d.name}`)
    await world.startDevice(d)
    pending.push(world.join(d)?.catch(() => {}) ?? Promise.resolve())
  }
  const chain = new ChainWorkload(world, chainRng, note, pending, async account => {
    await linkNew(account, chainRng)
    return true
  })
  const peopleWork = new PeopleWorkload(world, peopleRng, tracker, note, pending)
  const tick = (): void => {
    world.reconnect()
    sched.schedule(RECONNECT_EVERY_MS, tick)
  }

  try {
    // ── the world ───────────────────────────────────────────────────────────
    await world.startRelay()
    const chats: string[][] = []
    for (let a = 0; a < stats.accounts; a++) {
      const n = workRng.int(2, 4)
      stats.devices += n
      const first = world.addDevice(a, skews ? faultRng.int(-5000, 5000) : 0)
      const engine = await world.startDevice(first)
      // no recovery key: its scrypt costs 0.4 s of real time, and nothing here recovers an account
      await sched.await(engine.createAccount({ name: `account ${a}`, recovery: false }))
      world.accountIds[a] = engine.accountId!
      chats[a] = [(await sched.await(engine.createChat({ title: `chat ${a}.0` }))).chatId]
      for (let i = 1; i < n; i++) {
        const d = world.addDevice(a, skews ? faultRng.int(-5000, 5000) : 0)
        await world.startDevice(d)
        await sched.await(joined(d))
      }
    }
    tick()
    if (people) await peopleWork.setup(p => sched.await(p))
    world.net.faults = faultRate === 0 ? CALM : weather(faultRng, faultRate)

    // ── safety: workload with faults ────────────────────────────────────────
    const table = actionTable(faultRate)
    const send = (count: number): void => {
      const d = pickLive(workRng, world)
      if (d === null) return
      const e = d.engine!
      if (e.accountId === null) return
      let chatList: ChatEntry[]
      try {
        chatList = e.listChats()
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_ENGINE_STATE') return // still joining: a typed refusal is right
        throw err
      }
      if (chatList.length === 0) return
      const chat = workRng.pick(chatList)
      for (let i = 0; i < count; i++) {
        const text = `${d.name}#${messageNo++}`
        tracker.issued.set(text, d.peerId)
        stats.messages++
        pending.push(
          e.sendMessage(chat.chatId, text).then(
            m => {
              tracker.recordStored(d.account, m.id, text, m.status)
            },
            () => {
              /* the device crashed before it was stored: never acknowledged */
            }
          )
        )
      }
    }
    for (let i = 0; i < stats.actions; i++) {
      await sched.runUntil(sched.now + Math.round(workRng.exp(40)))
      const action: Action = workRng.weighted(table)
      switch (action) {
        case 'send':
          send(1)
          break
        case 'burst':
          send(workRng.int(2, 8))
          break
        case 'createChat': {
          const d = pickLive(workRng, world)
          if (d !== null)
            pending.push(
              d.engine!.createChat({ title: `chat by ${d.name}` }).then(
                c => {
                  chats[d.account]!.push(c.chatId)
                },
                () => {}
              )
            )
          break
        }
        case 'updateChat': {
          const d = pickLive(workRng, world)
          const chat = d === null || d.engine!.accountInfo === null ? undefined : safeChats(d.engine!)[0]
          if (d !== null && chat !== undefined) {
            const patch = workRng.pick([{ muted: !chat.muted }, { pinned: !chat.pinned }, { archived: !chat.archived }, { title: `renamed by ${d.name}` }])
            pending.push(d.engine!.updateChat(chat.chatId, patch).catch(() => {}))
          }
          break
        }
        case 'rename': {
          const d = pickLive(workRng, world)
          if (d !== null) pending.push(d.engine!.setProfileName(`name from ${d.name}`).catch(() => {}))
          break
        }
        case 'linkDevice': {
          const account = workRng.int(0, stats.accounts - 1)
          if (chain.roomFor(account)) await linkNew(account, faultRng)
          break
        }
        case 'partition':
          note(partition(faultRng, world))
          break
        case 'heal':
          world.net.heal()
          note('heal partitions')
          break
        case 'crashDevice': {
          const d = pickLive(faultRng, world)
          if (d !== null && world.live().length > 1) {
            world.crashDevice(d)
            stats.crashes++
          }
          break
        }
        case 'damageStore': {
          const d = pickLive(faultRng, world)
          if (d !== null && world.live().length > 1) {
            world.crashDevice(d)
            stats.crashes++
            const what = await storage.inject(d, faultRng)
            if (what !== null) {
              stats.damaged++
              note(what)
            }
          }
          break
        }
        case 'restartDevice': {
          const dead = world.devices.filter(d => d.engine === null && !d.retired)
          if (dead.length > 0) await restart(faultRng.pick(dead))
          break
        }
        case 'crashRelay':
          if (world.relay.service !== null) {
            world.crashRelay()
            stats.crashes++
          }
          break
        case 'restartRelay':
          if (world.relay.service === null) await world.startRelay()
          break
        case 'netWeather':
          world.net.faults = weather(faultRng, faultRate)
          note('network weather changes')
          break
      }
      if (options.chain !== false) await chain.maybeAct()
      if (people) await peopleWork.maybeAct()
    }

    // ── liveness, then a new device per account from the relay alone (end-phases.ts) ──
    const { ended, skip } = await endPhases({ world, sched, people, tracker, chainWatch, accounts: stats.accounts, restart, joined, note })

    // what the step invariants found during the run comes first, in the order found; then the end's checks
    const running = world.devices.filter(d => d.engine !== null)
    const violations = [
      ...tracker.violations,
      ...ended,
      ...(await wholeChats(running, sched)),
      ...checkFinal(
        running,
        tracker,
        // what a revoked device held only itself went with its erased store (the relay refuses its uploads once it holds the revocation)
        new Set(world.devices.filter(d => d.revoked).map(d => d.peerId)),
        skip
      )
    ]
    for (const err of sched.errors) violations.push(`timer threw: ${String(err)}`)
    stats.virtualMs = sched.now
    stats.steps = sched.steps
    stats.acks = invariants.relayAcks.count
    stats.damaged = storage.injectedCount
    stats.chain = { links: chain.links, revocations: chain.revocations, mutual: chain.mutual, erased: world.devices.filter(d => d.revoked).length }
    stats.sealChecks = sealWatch.checked
    stats.people = { invites: peopleWork.invites, groups: peopleWork.groups, removals: peopleWork.removals, actions: peopleWork.actions, relayRemovals: removalWatch.removals }
    return {
      seed,
      ok: violations.length === 0,
      violations: dedupe(violations),
      trace,
      stats,
      finalState: finalState(world),
      replay: replayCommand(seed, options.bugs, options.chain !== false, people)
    }
  } catch (err) {
    // a clock that stopped is a finding, with its seed, not a run that never ends
    if (!(err instanceof LivelockError)) throw err
    const violations = dedupe([...tracker.violations, `${err.message} ${invariants.where()}`])
    stats.virtualMs = sched.now
    stats.steps = sched.steps
    return { seed, ok: false, violations, trace, stats, finalState: '', replay: replayCommand(seed, options.bugs, options.chain !== false, people) }
  } finally {
    for (const u of undo) u()
  }
}

/**
 * A chat read whole (`allMessages`: every segment, what an export holds) lists as many messages
 * as the device counts in it (`messageCount`). (relay-crash.test.ts saw a device that counted
 * 3,000 read 1,532: its index named a segment nowhere for a while, ChatView.has.)
 */
async function wholeChats(devices: DeviceNode[], sched: Scheduler): Promise<string[]> {
  const out: string[] = []
  for (const d of devices) {
    const e = d.engine!
    for (const c of safeChats(e)) {
      const all = await sched.await(e.allMessages(c.chatId)).catch((err: unknown) => err as Error)
      if (all instanceof Error) out.push(`whole chat: ${d.name} cannot read chat ${c.chatId} whole: ${all.message}`)
      else if (all.length !== e.messageCount(c.chatId))
        out.push(`whole chat: ${d.name} counts ${e.messageCount(c.chatId)} messages in chat ${c.chatId}, and reads ${all.length} in all its segments`)
    }
  }
  return out
}
