// "Tandem without encryption" as a compared system (`--plain`, or `tandem-plain` in --systems):
// the device and relay of commit 4e8b2c9, the last one before end-to-end sealing (issue 14),
// built on demand outside the repository and run beside today's in the same invocation.
//
// The build is the commit's own sources (`git archive`, nothing checked out in this work tree)
// compiled with this repository's TypeScript against this repository's node_modules: every
// third-party package is a symlink to ours (same versions, same yjs, same libp2p), and only
// @tandem/* point at the commit's packages. So the two systems differ by their own code only.
import { execFileSync, execSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The last commit without end-to-end encryption. */
export const PLAIN_COMMIT = '4e8b2c9'
/** What the bench builds of it: the packages the device and the relay need. */
const PROJECTS = ['packages/storage', 'packages/protocol', 'packages/transport', 'packages/engine', 'packages/relay', 'apps/device', 'apps/relay']
const MARKER = '.tandem-plain-built'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface PlainBuild {
  commit: string
  dir: string
  deviceMain: string
  relayMain: string
  /** The commit's engine package (its dist/node/index.js and polyfill.js), for the store granter. */
  engineDir: string
}

/** Where the build lives: BENCH_PLAIN_DIR, or a directory under the system's temp dir (not in the repository). */
export const plainDir = (): string => process.env.BENCH_PLAIN_DIR || join(tmpdir(), `tandem-plain-${PLAIN_COMMIT}`)

const buildOf = (dir: string): PlainBuild => ({
  commit: PLAIN_COMMIT,
  dir,
  deviceMain: join(dir, 'apps/device/dist/main.js'),
  relayMain: join(dir, 'apps/relay/dist/main.js'),
  engineDir: join(dir, 'packages/engine')
})

let built: PlainBuild | null = null

/** The build, once {@link ensurePlainBuild} made or found it; throws with what to do otherwise. */
export function plainBuild(): PlainBuild {
  if (built === null) throw new Error(`tandem-plain (commit ${PLAIN_COMMIT}) is not built: run the bench with --plain, which builds it on demand`)
  return built
}

async function isBuilt(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { commit: string; nodeModules: string }
    const b = buildOf(dir)
    return marker.commit === PLAIN_COMMIT && marker.nodeModules === join(repoRoot, 'node_modules') && existsSync(b.deviceMain) && existsSync(b.relayMain)
  } catch {
    return false
  }
}

/**
 * Finds the build of 4e8b2c9, or makes it (about 10 s: `git archive` of its packages and apps,
 * node_modules linked to this repository's, `tsc -b` of the seven projects), in a fresh
 * directory renamed into place once it is complete.
 */
export async function ensurePlainBuild(log: (s: string) => void): Promise<PlainBuild> {
  const dir = plainDir()
  if (await isBuilt(dir)) {
    log(`tandem-plain: using the build of ${PLAIN_COMMIT} in ${dir}`)
    built = buildOf(dir)
    return built
  }
  log(`tandem-plain: building commit ${PLAIN_COMMIT} (no encryption) in ${dir}: git archive + tsc -b against this repository's node_modules, ~10 s …`)
  const t0 = performance.now()
  const tmp = `${dir}.building-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  try {
    execSync(`git -C '${repoRoot}' archive --format=tar ${PLAIN_COMMIT} packages apps package.json tsconfig.json tsconfig.base.json | tar -x -C '${tmp}'`, {
      stdio: ['ignore', 'ignore', 'pipe']
    })
    // node_modules: ours, entry by entry, except the workspace's own packages, which point at the commit's
    const ours = join(repoRoot, 'node_modules')
    await mkdir(join(tmp, 'node_modules/@tandem'), { recursive: true })
    for (const entry of await readdir(ours)) {
      if (entry === '@tandem' || entry === '.bin' || entry === '.package-lock.json') continue
      await symlink(join(ours, entry), join(tmp, 'node_modules', entry))
    }
    // (relative links such as ../../packages/engine: the same text resolves inside the build)
    for (const entry of await readdir(join(ours, '@tandem'))) await symlink(await readlink(join(ours, '@tandem', entry)), join(tmp, 'node_modules/@tandem', entry))
    execFileSync(process.execPath, [join(ours, 'typescript/bin/tsc'), '-b', ...PROJECTS], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] })
    await writeFile(join(tmp, MARKER), JSON.stringify({ commit: PLAIN_COMMIT, nodeModules: ours, builtAt: new Date().toISOString() }))
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string }
    const detail = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.trim().split('\n').slice(0, 5).join(' | ')
    throw new Error(`tandem-plain: building ${PLAIN_COMMIT} failed: ${detail || e.message}`)
  }
  log(`tandem-plain: built in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  built = buildOf(dir)
  return built
}
