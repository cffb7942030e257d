import { describe, expect, it } from 'vitest'
import { EpochGate } from '../src/store-service/epoch-gate.js'

/** A task that runs until `finish()` is called, and records when it started. */
function task(log: string[], name: string) {
  const done = Promise.withResolvers<void>()
  return {
    run: async () => {
      log.push(`${name} starts`)
      await done.promise
      log.push(`${name} ends`)
      return name
    },
    finish: () => done.resolve()
  }
}

/** Lets every pending promise callback run. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

describe('EpochGate', () => {
  it("runs an account's commits side by side", async () => {
    const gate = new EpochGate()
    const log: string[] = []
    const [a, b] = [task(log, 'a'), task(log, 'b')]
    const runs = [gate.shared('acct', a.run), gate.shared('acct', b.run)]
    await settle()
    expect(log).toEqual(['a starts', 'b starts'])
    a.finish()
    b.finish()
    expect(await Promise.all(runs)).toEqual(['a', 'b'])
  })

  it('holds a chain change until the commits under way are done, and new commits until the change is', async () => {
    const gate = new EpochGate()
    const log: string[] = []
    const [commit, change, later] = [task(log, 'commit'), task(log, 'change'), task(log, 'later commit')]
    const first = gate.shared('acct', commit.run)
    await settle()
    const exclusive = gate.exclusive('acct', change.run)
    await settle()
    const next = gate.shared('acct', later.run)
    await settle()
    expect(log).toEqual(['commit starts'])
    commit.finish()
    await first
    await settle()
    expect(log).toEqual(['commit starts', 'commit ends', 'change starts'])
    change.finish()
    await exclusive
    await settle()
    expect(log.at(-1)).toBe('later commit starts')
    later.finish()
    await next
  })

  it('holds the chains of every account an upload names until it leaves, whatever their order, and leaves once', async () => {
    const gate = new EpochGate()
    const log: string[] = []
    // (a shared chat's commit holds its members' chains: Bob's and Alice's, named in any order)
    const leave = await gate.enter(['bob', 'alice', 'bob'])
    const changes = ['alice', 'bob'].map(a => gate.exclusive(a, async () => log.push(`${a} changes`)))
    const elsewhere = gate.exclusive('carol', async () => log.push('carol changes'))
    await elsewhere
    await settle()
    expect(log).toEqual(['carol changes'])
    leave()
    leave() // (a second call gives back nothing more)
    await Promise.all(changes)
    expect(log.sort()).toEqual(['alice changes', 'bob changes', 'carol changes'])
    const again = await gate.enter(['alice'])
    again()
    expect(await gate.exclusive('alice', async () => 'free again')).toBe('free again')
  })

  it('keeps accounts apart, and a failed task releases the gate', async () => {
    const gate = new EpochGate()
    const log: string[] = []
    const other = task(log, 'other account')
    const change = gate.exclusive('a', async () => {
      throw new Error('refused')
    })
    const elsewhere = gate.shared('b', other.run)
    await expect(change).rejects.toThrow('refused')
    await settle()
    expect(log).toEqual(['other account starts'])
    other.finish()
    await elsewhere
    expect(await gate.shared('a', async () => 'free again')).toBe('free again')
  })
})
