import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

// The README's code examples, run as they are written there, with the output it shows.

const root = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
})

/** The code block after `heading` in README.md, and the plain block that follows it (its output). */
async function example(heading: string): Promise<{ code: string; output: string }> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const from = readme.indexOf(heading)
  expect(from, `README has a section "${heading}"`).toBeGreaterThanOrEqual(0)
  const blocks = [...readme.slice(from).matchAll(/```(\w*)\n([\s\S]*?)```/g)]
  const code = blocks[0]!
  const output = blocks[1]!
  expect(code[1]).toBe('ts')
  expect(output[1]).toBe('')
  return { code: code[2]!, output: output[2]! }
}

/** Runs a README example as written (inside the repository, so `@tandem/engine` resolves as it would for an app that installed it); returns what it printed. */
async function runExample(heading: string): Promise<{ stdout: string; output: string }> {
  const { code, output } = await example(heading)
  const dir = await mkdtemp(join(root, 'test', '.readme-'))
  dirs.push(dir)
  await writeFile(join(dir, 'example.mjs'), code)
  const { stdout } = await run('node', ['example.mjs'], { cwd: dir, timeout: 60_000 })
  return { stdout, output }
}

it('the embedding example runs as written and prints what the README shows', async () => {
  const { stdout, output } = await runExample('## Embedding the engine')
  expect(stdout).toBe(output)
}, 90_000)

it('the long-chat example runs as written and prints what the README shows', async () => {
  const { stdout, output } = await runExample('### Long chats: the newest screen first, older pages as you scroll')
  expect(stdout).toBe(output)
}, 90_000)

it('the people example runs as written and prints what the README shows', async () => {
  const { stdout, output } = await runExample('### Chatting with other people: invites, contacts, groups')
  expect(stdout).toBe(output)
}, 90_000)

it('the message-lifecycle example runs as written and prints what the README shows', async () => {
  const { stdout, output } = await runExample('### Reading, replying, drafts and typing')
  expect(stdout).toBe(output)
}, 90_000)

it('the search-and-export example runs as written and prints what the README shows', async () => {
  const { stdout, output } = await runExample('### Search and export')
  expect(stdout).toBe(output)
}, 90_000)
