#!/usr/bin/env node
// `npm start`: the demo, ready. A relay (TCP for the Node devices, WebSockets for browsers),
// the chat app served on 127.0.0.1, and three `tandem-device --http` processes: Alice's laptop
// and phone (one account) and Bob's laptop, in a 1:1 chat with some history. The page drives
// each device through its API (the URLs printed carry its address and token).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { DeviceProcess } from '../device-process.js'
import { RelayProcess } from '../relay-process.js'
import { describeError } from '../say.js'
import { parseDemoOptions } from './demo-options.js'
import { type DemoDevices, type DemoState, setUpDemo } from './demo-setup.js'
import { type DemoDevice, describeDemo, devicePage, newDevicePage } from './demo-urls.js'
import { appOrigins, serveApp } from './serve-app.js'

const options = parseDemoOptions(process.argv)
const say = (line: string): void => {
  if (!options.json) process.stdout.write(`${line}\n`)
}
const stateFile = join(options.dir, 'demo.json')

const readState = async (): Promise<DemoState | null> => {
  try {
    return JSON.parse(await readFile(stateFile, 'utf8')) as DemoState
  } catch {
    return null
  }
}

// a setup cut short leaves no demo.json: it starts over, never half made
let state = options.fresh ? null : await readState()
if (state === null) await rm(options.dir, { recursive: true, force: true })
await mkdir(options.dir, { recursive: true })

const stops: Array<() => Promise<unknown>> = []
let stopping: Promise<void> | null = null
const stopAll = (code: number): Promise<void> => {
  stopping ??= (async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {})
    process.exit(code)
  })()
  return stopping
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    say('\nStopping the demo…')
    void stopAll(0)
  })

const devices: Array<{ name: keyof DemoDevices; label: string; dir: string }> = [
  { name: 'aliceLaptop', label: "Alice's laptop", dir: 'alice-laptop' },
  { name: 'alicePhone', label: "Alice's phone", dir: 'alice-phone' },
  { name: 'bobLaptop', label: "Bob's laptop", dir: 'bob-laptop' }
]

try {
  const p = options.relayPort
  const relay = await RelayProcess.start(join(options.dir, 'relay'), [], [`/ip4/127.0.0.1/tcp/${p}`, `/ip4/127.0.0.1/tcp/${p === 0 ? 0 : p + 1}/ws`])
  stops.push(() => relay.stop())
  const relayWs = relay.multiaddrs.find(a => a.includes('/ws/'))!
  const app = await serveApp(options.appPort)
  stops.push(() => app.close())

  const network = options.lan ? ['--mdns', '--listen', '/ip4/0.0.0.0/tcp/0'] : []
  const started = devices.map(({ label, dir }) => {
    const d = DeviceProcess.start(label, [
      '--data',
      join(options.dir, dir),
      '--name',
      label,
      '--relay',
      relay.address,
      '--http',
      // the page as printed (127.0.0.1) and as a person may type it (localhost): two origins to a browser
      '--http-origin',
      appOrigins(app.url).join(','),
      ...network
    ])
    stops.push(() => d.stop())
    return d
  })
  const served = await Promise.all(started.map(d => d.waitForEvent(e => e.event === 'http', 30_000)))
  const [aliceLaptop, alicePhone, bobLaptop] = started as [DeviceProcess, DeviceProcess, DeviceProcess]
  if (state === null) {
    state = await setUpDemo({ aliceLaptop, alicePhone, bobLaptop }, say)
    await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`)
  }

  // from here on the launcher only waits for the devices to stop: their events need not pile up in it
  for (const d of started) d.retain = false
  const shown: DemoDevice[] = devices.map(({ label, dir }, i) => {
    const api = served[i]!.url as string
    const token = served[i]!.token as string
    return { name: dir, label, api, token, pid: started[i]!.child.pid!, page: devicePage(app.url, { api, token, name: dir }) }
  })
  const shownDir = relative(process.cwd(), options.dir)
  const demo = {
    app: app.url,
    relay: relay.address,
    relayWs,
    dir: shownDir === '' || shownDir.startsWith('..') ? options.dir : shownDir,
    devices: shown,
    newDevice: newDevicePage(app.url, relayWs)
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ ...demo, pids: [process.pid, relay.child.pid, ...shown.map(d => d.pid)] })}\n`)
  else say(describeDemo(demo))
  for (const d of started)
    void d.exited.then(code => {
      if (stopping === null) process.stderr.write(`npm start: ${d.label} stopped (exit ${code}): ${d.stderr.slice(-3).join(' | ')}\n`)
    })
} catch (err) {
  process.stderr.write(`${describeError(err).replace(/^tandem-device/, 'npm start')}\n`)
  await stopAll(1)
}
