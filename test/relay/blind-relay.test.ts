import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')

/** Every package @tandem/relay loads at run time, walking package.json dependencies through node_modules. */
function runtimeDependencies(pkgDir: string, seen = new Map<string, string>()): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
  const require = createRequire(join(pkgDir, 'package.json'))
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    if (seen.has(name)) continue
    // node's own lookup path (exports maps may hide package.json from require.resolve)
    const dir = (require.resolve.paths(name) ?? []).map(p => join(p, name)).find(d => existsSync(join(d, 'package.json')))
    if (dir === undefined) continue // optional or platform-specific and not installed
    seen.set(name, dir)
    runtimeDependencies(dir, seen)
  }
  return seen
}

it('the relay never decodes a blob: no Yjs anywhere in its dependency graph', () => {
  const deps = runtimeDependencies(join(root, 'packages/relay'))
  expect(deps.size).toBeGreaterThan(20) // the walk really walked
  expect(deps.has('@tandem/protocol')).toBe(true)
  for (const forbidden of ['yjs', 'y-protocols', '@tandem/engine', 'y-leveldb']) expect(deps.has(forbidden)).toBe(false)
  // the same walk does see Yjs where it is (the engine): the check can fail
  expect(runtimeDependencies(join(root, 'packages/engine')).has('yjs')).toBe(true)
})
