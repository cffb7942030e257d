import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { DEVICE_MAIN } from './helpers/device-process.js'
import { Rig } from './relay/relay-helpers.js'

// The README's walkthrough of two devices ("## Two devices: linking, listing, revoking"), run
// as written there: each ```sh block is one tandem-device command (its piped answers
// included), and the plain block after it is what it printed. What differs from run to run
// (ids, the code and its QR, the six digits, the recovery words, times, ports) is compared as
// a placeholder; everything else must match line for line. TANDEM_README_PRINT=1 prints this
// run's output, to paste when the commands' wording changes.

const root = fileURLToPath(new URL('..', import.meta.url))
const SECTION = '## Two devices: linking, listing, revoking'
const rig = new Rig()
afterAll(() => rig.cleanup())

interface Step {
  command: string
  output: string
}

async function walkthrough(): Promise<Step[]> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const from = readme.indexOf(SECTION)
  expect(from, `README has a section "${SECTION}"`).toBeGreaterThanOrEqual(0)
  const end = readme.indexOf('\n## ', from + SECTION.length)
  const blocks = [...readme.slice(from, end).matchAll(/```(\w*)\n([\s\S]*?)```/g)].map(m => ({ lang: m[1]!, text: m[2]! }))
  const steps: Step[] = []
  for (let i = 0; i < blocks.length; i++) {
    if (blocks[i]!.lang !== 'sh') continue
    expect(blocks[i + 1]?.lang, `the block after \`${blocks[i]!.text.trim()}\` is its output`).toBe('text')
    steps.push({ command: blocks[i]!.text.trim(), output: blocks[i + 1]!.text })
  }
  return steps
}

/** What changes from run to run, as placeholders; runs of spaces (table padding) as two. */
export function normalize(text: string): string {
  const lines: string[] = []
  for (const raw of text.replace(/\s+$/u, '').split('\n')) {
    if (/^[█▀▄ ]{20,}$/u.test(raw)) {
      if (lines.at(-1) !== '[QR]') lines.push('[QR]')
      continue
    }
    let line = raw
      .replace(/12D3KooW[1-9A-HJ-NP-Za-km-z]+/g, '<peer>')
      .replace(/tandem1-[a-z0-9-]+/g, '<code>')
      .replace(/\ba[a-z2-7]{32}\b/g, '<account>')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, '<time>')
      .replace(/\b\d{6}\b/g, '<digits>')
      .replace(/\/tcp\/\d+/g, '/tcp/<port>')
      .replace(/\((?:\d+ (?:min|s) ?)+ from now\)/g, '(<duration> from now)')
    if (/^\s+\d+ [a-z]+(\s+\d+ [a-z]+)*$/.test(line)) line = line.replace(/(\d+) [a-z]+/g, '$1 <word>')
    lines.push(line.replace(/ {2,}/g, '  ').trimEnd())
  }
  return lines.join('\n')
}

/** Runs one README command line: `[printf '…' | ] tandem-device args…`, with the walkthrough's values for its placeholders. */
function run(command: string, values: Record<string, string>, cwd: string): { out: Promise<string>; child: ReturnType<typeof spawn>; stdout: () => string } {
  const piped = /^printf '([^']*)' \| (.*)$/.exec(command)
  const line = piped?.[2] ?? command
  const input = piped === null ? null : piped[1]!.replaceAll('\\n', '\n')
  const words = line.split(/\s+/).map(w => values[w] ?? w)
  expect(words[0]).toBe('tandem-device')
  const child = spawn(process.execPath, [DEVICE_MAIN, ...words.slice(1)], { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  if (input !== null) child.stdin!.end(input)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const out = new Promise<string>((resolve, reject) => {
    child.once('exit', code => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`\`${command}\` exited ${code}: ${stderr}${stdout}`))
    })
  })
  return { out, child, stdout: () => stdout }
}

it('the two-device walkthrough runs as written and prints what the README shows', async () => {
  const steps = await walkthrough()
  const relay = await rig.relay()
  const cwd = await rig.dir('readme')
  const values: Record<string, string> = { $RELAY: relay.address }
  const outputs: string[] = []
  for (const step of steps) {
    if (/ link .*--data \.\/phone/.test(step.command) && !step.command.includes('--code')) {
      // the new device waits for the other's confirmation: it runs beside the next step
      const phone = run(step.command, values, cwd)
      const started = Date.now()
      while (!/tandem1-[a-z0-9-]+/.test(phone.stdout()) && Date.now() - started < 30_000) await new Promise(r => setTimeout(r, 50))
      values['tandem1-…'] = /tandem1-[a-z0-9-]+/.exec(phone.stdout())![0]
      const next = steps[steps.indexOf(step) + 1]!
      const laptop = run(next.command, values, cwd)
      const laptopOut = await laptop.out
      // (it exits once linked, --exit; its stdin stays open: closing it is the person's Ctrl-D, which cancels)
      outputs.push(await phone.out, laptopOut)
      values['12D3KooW…'] = /New device: "phone" \(node, (12D3KooW\w+)\)/.exec(laptopOut)![1]!
      continue
    }
    if (outputs.length > steps.indexOf(step)) continue // (ran beside the one before)
    outputs.push(await run(step.command, values, cwd).out)
  }
  if (process.env.TANDEM_README_PRINT === '1') for (const [i, o] of outputs.entries()) console.log(`--- ${steps[i]!.command}\n${o}`)
  for (const [i, step] of steps.entries()) expect(normalize(outputs[i]!), step.command).toBe(normalize(step.output))
}, 180_000)
