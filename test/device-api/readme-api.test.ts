import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, expect, it } from 'vitest'
import { PromptProcess } from '../helpers/prompt-process.js'
import { Rig } from '../relay/relay-helpers.js'

// The README's curl example of the device API ("### The device API (`--http`)"), run as
// written there with bash, curl and jq, against a device started as the README says.

const root = fileURLToPath(new URL('../..', import.meta.url))
const HEADING = '### The device API (`--http`)'
const rig = new Rig()
const prompts: PromptProcess[] = []
afterEach(async () => {
  for (const p of prompts.splice(0)) await p.kill()
  await rig.cleanup()
})

it("the README's curl example runs as written and prints what the README shows", async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const from = readme.indexOf(HEADING)
  expect(from, `README has a section "${HEADING}"`).toBeGreaterThanOrEqual(0)
  const [code, output] = [...readme.slice(from).matchAll(/```(\w*)\n([\s\S]*?)```/g)].slice(0, 2)
  expect([code?.[1], output?.[1]]).toEqual(['sh', 'text'])

  const cwd = await rig.dir('readme-api')
  const device = new PromptProcess(['--data', join(cwd, 'laptop'), '--http'])
  prompts.push(device)
  await device.waitLine(/^Device API on http:\/\/127\.0\.0\.1:\d+ \(its token is in .*http\.json\)$/)
  const { stdout } = await promisify(execFile)('bash', ['-e', '-c', code![2]!], { cwd, timeout: 60_000 })
  expect(stdout).toBe(output![2])
})
