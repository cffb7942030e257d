import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'vite'
import { describe, expect, it } from 'vitest'

// The core and the browser assembly must run in a browser tab: nothing they import, however
// deep, may be a `node:` module or a package that only runs on Node. The graph is the one a
// real bundler (Vite, browser conditions) resolves, read from the bundler's own module list.

const dist = (path: string): string => fileURLToPath(new URL(`../dist/${path}`, import.meta.url))

/** Packages that only run on Node (native addons, sockets, the file system). */
const NODE_ONLY = ['classic-level', 'level', '@libp2p/tcp', '@libp2p/mdns', 'ws', 'node-gyp-build', 'multicast-dns']
const BUILTINS = new Set(builtinModules.flatMap(m => [m, `node:${m}`]))

interface Graph {
  ids: string[]
  importers: Map<string, readonly string[]>
}

/** Every module a browser build of `entry` reaches, and who imports each. */
async function browserGraph(entry: string): Promise<Graph> {
  const graph: Graph = { ids: [], importers: new Map() }
  const record: Plugin = {
    name: 'record-module-graph',
    buildEnd() {
      for (const id of this.getModuleIds()) {
        graph.ids.push(id)
        graph.importers.set(id, this.getModuleInfo(id)?.importers ?? [])
      }
    }
  }
  await build({
    configFile: false,
    logLevel: 'silent',
    plugins: [record],
    build: { write: false, lib: { entry, formats: ['es'], fileName: 'out' }, rollupOptions: { onwarn: () => {} } }
  })
  return graph
}

/** What makes a module Node-only: a builtin (Vite stubs them as `__vite-browser-external`), or a Node-only package. */
function nodeOnly(id: string): string | null {
  const bare = id.replace(/^\0?__vite-browser-external:/, '')
  if (bare !== id || BUILTINS.has(bare)) return bare
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(id)?.[1]
  return pkg !== undefined && NODE_ONLY.includes(pkg) ? pkg : null
}

/** "a → b → c": how `id` is reached from the entry (first importer at each step). */
function chain(graph: Graph, id: string): string {
  const path = [id]
  for (let at = id, i = 0; i < 30; i++) {
    const from = graph.importers.get(at)?.[0]
    if (from === undefined) break
    path.unshift(from)
    at = from
  }
  return path.map(p => p.replace(/^.*node_modules\//, '').replace(/^.*packages\//, '')).join(' → ')
}

const violations = (graph: Graph): string[] =>
  graph.ids.flatMap(id => {
    const what = nodeOnly(id)
    return what === null ? [] : [`${what}: ${chain(graph, id)}`]
  })

describe('the import graph', () => {
  it('the browser assembly reaches no node: module and no Node-only package', async () => {
    const graph = await browserGraph(dist('browser/index.js'))
    expect(graph.ids.length).toBeGreaterThan(200) // the walk really walked (libp2p, Yjs, the engine)
    expect(violations(graph)).toEqual([])
  }, 60_000)

  it('the platform-free core (the Engine and its services) reaches no node: module and no Node-only package', async () => {
    const graph = await browserGraph(dist('core/engine.js'))
    expect(graph.ids.some(id => id.includes('/engine/dist/replication/'))).toBe(true)
    expect(violations(graph)).toEqual([])
  }, 60_000)

  it('the same walk does find them in the Node assembly: the check can fail', async () => {
    const found = violations(await browserGraph(dist('node/index.js')))
    expect(found.some(v => v.startsWith('node:fs'))).toBe(true)
    expect(found.some(v => v.startsWith('classic-level'))).toBe(true)
    expect(found.some(v => v.startsWith('@libp2p/tcp'))).toBe(true)
  }, 60_000)
})
