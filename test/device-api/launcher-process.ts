import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

// `npm start`'s launcher as npm start runs it (node on its built file; the build is `npm run
// build`'s, which `npm test` runs first), on a given dir and free ports, for tests; `cleanup`
// stops whatever a failed test left of it.

export const LAUNCHER = fileURLToPath(new URL('../../apps/device/dist/demo/launcher.js', import.meta.url))

export interface Demo {
  app: string
  newDevice: string
  devices: Array<{ name: string; label: string; api: string; token: string; pid: number; page: string }>
  pids: number[]
}

const children: ChildProcess[] = []
/** Every process a launcher said it started: a failed test leaves none of them running. */
const started: number[] = []
export const dirs: string[] = []
export async function cleanup(): Promise<void> {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const pid of started.splice(0).filter(alive)) process.kill(pid, 'SIGKILL')
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
}

/** Starts the launcher and resolves with what it prints once ready (its --json line); rejects if it exits first. */
export function launch(dir: string, detached = false, extra: string[] = []): { child: ChildProcess; ready: Promise<Demo>; exited: Promise<number | null>; stderr: string[] } {
  const child = spawn(process.execPath, [LAUNCHER, '--dir', dir, '--app-port', '0', '--relay-port', '0', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached })
  children.push(child)
  const stderr: string[] = []
  createInterface({ input: child.stderr! }).on('line', l => stderr.push(l))
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  const ready = new Promise<Demo>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      if (!line.startsWith('{')) return
      const demo = JSON.parse(line) as Demo
      started.push(...demo.pids)
      resolve(demo)
    })
    void exited.then(code => reject(new Error(`the launcher exited (${code}) before it was ready: ${stderr.join('\n')}`)))
  })
  return { child, ready, exited, stderr }
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
