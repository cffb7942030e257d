import { describe, expect, it } from 'vitest'
import { BurstBatcher, type BurstScope } from '../src/util/burst-batcher.js'

/** A batcher whose bursts end when the test says so, recording what it handled. */
function batcher(scope: BurstScope = 'per-key', options: { holdFirst?: (key: string) => boolean; failEnd?: Error } = {}) {
  const deferred: Array<() => void> = []
  const log: string[] = []
  const b = new BurstBatcher<string, number>(
    fn => {
      deferred.push(fn)
    },
    {
      now: (key, item) => {
        if (options.holdFirst?.(key) === true) return false
        log.push(`now ${key}:${item}`)
      },
      end: (key, items, firstWentNow) => {
        log.push(`end ${key}:[${items.join(',')}]${firstWentNow ? '' : ' held'}`)
        if (options.failEnd !== undefined) throw options.failEnd
      }
    },
    scope
  )
  const endBurst = (): void => {
    for (const fn of deferred.splice(0)) fn()
  }
  return { b, log, endBurst, deferred }
}

describe('BurstBatcher', () => {
  it('handles the first item after a quiet spell at once, and the rest of the burst at its end', () => {
    const { b, log, endBurst } = batcher()
    expect(b.add('a', 1)).toBe(true)
    expect(b.add('a', 2)).toBe(false)
    expect(b.add('a', 3)).toBe(false)
    expect(log).toEqual(['now a:1'])
    endBurst()
    expect(log).toEqual(['now a:1', 'end a:[2,3]'])
  })

  it('starts a new burst after the end of the last one', () => {
    const { b, log, endBurst } = batcher()
    b.add('a', 1)
    endBurst()
    expect(b.add('a', 2)).toBe(true)
    endBurst()
    expect(log).toEqual(['now a:1', 'end a:[]', 'now a:2', 'end a:[]'])
  })

  it.each<[BurstScope, string[]]>([
    // each key has its own quiet spells: the first item of every key goes at once
    ['per-key', ['now a:1', 'now b:10', 'end a:[2]', 'end b:[11]']],
    // one burst for every key: only the burst's very first item goes at once
    ['all-keys', ['now a:1', 'end a:[2]', 'end b:[10,11] held']]
  ])("with scope %s, batches each key's items apart", (scope, expected) => {
    const { b, log, endBurst } = batcher(scope)
    b.add('a', 1)
    b.add('b', 10)
    b.add('a', 2)
    b.add('b', 11)
    endBurst()
    expect(log).toEqual(expected)
  })

  it('leaves the first item to the end of the burst when the handler declines it, and says so', () => {
    const { b, log, endBurst } = batcher('per-key', { holdFirst: key => key === 'busy' })
    expect(b.add('busy', 1)).toBe(false)
    b.add('busy', 2)
    b.add('idle', 5)
    endBurst()
    expect(log).toEqual(['now idle:5', 'end busy:[1,2] held', 'end idle:[]'])
  })

  it('asks for one deferred call per burst, not per item', () => {
    const { b, deferred } = batcher('all-keys')
    for (let i = 0; i < 100; i++) b.add(`doc${i % 3}`, i)
    expect(deferred).toHaveLength(1)
  })

  it('resolves a wait for the end of a burst once its items are handled', async () => {
    const { b, log, endBurst } = batcher()
    b.add('a', 1)
    b.add('a', 2)
    let ended = false
    const done = b.ended('a').then(() => {
      ended = true
    })
    await Promise.resolve()
    expect(ended).toBe(false)
    endBurst()
    await done
    expect(log).toEqual(['now a:1', 'end a:[2]'])
    await expect(b.ended('a')).resolves.toBeUndefined() // no burst under way
  })

  it('rejects a wait for the end of a burst with what handling its items threw', async () => {
    const failure = new Error('transaction failed')
    const { b, endBurst } = batcher('per-key', { failEnd: failure })
    b.add('a', 1)
    b.add('a', 2)
    const done = b.ended('a')
    endBurst()
    await expect(done).rejects.toBe(failure)
  })

  it('lets an error of a burst nobody waits for surface from the deferred call', () => {
    const failure = new Error('send failed')
    const { b, endBurst } = batcher('per-key', { failEnd: failure })
    b.add('a', 1)
    expect(endBurst).toThrow(failure)
  })
})
