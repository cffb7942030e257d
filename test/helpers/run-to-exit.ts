import { spawn } from 'node:child_process'

/**
 * Runs `node …args` to its exit (killed after `timeoutMs`): its exit code and everything it
 * wrote to stderr. Its stdin stays open, so a process that reads it (`--control`) does not stop
 * for want of input.
 */
export async function runToExit(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { env: options.env ?? process.env, stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 20_000)
  const code = await new Promise<number | null>(resolve => {
    child.once('exit', resolve)
  })
  clearTimeout(timer)
  return { code, stderr }
}
