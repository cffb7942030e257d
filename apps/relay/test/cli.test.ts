// Drives the built `tandem-relay` (apps/relay/dist/main.js; `npm test` builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runToExit } from '../../../test/helpers/run-to-exit.js'
import { parseBytes, parseDuration, parseHostPort, parseOptions, DEFAULT_LISTEN } from '../src/options.js'

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js')

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-relay-cli-'))
  cleanups.push(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

interface Started {
  child: ChildProcess
  lines: string[]
  exit: Promise<number | null>
  stderr: () => string
}

/** Starts the relay and resolves once it printed its `http:` line (its last startup line). */
async function startCli(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, TANDEM_RELAY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exit = new Promise<number | null>(resolve => {
    child.once('exit', code => {
      resolve(code)
    })
  })
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL')
      await exit
    }
  })
  const lines: string[] = []
  const rl = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`relay did not start: ${err}`))
    }, 20_000)
    rl.on('line', line => {
      lines.push(line)
      if (line.startsWith('http: ')) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exit.then(code => {
      clearTimeout(timer)
      reject(new Error(`relay exited ${code}: ${err}`))
    })
  })
  return { child, lines, exit, stderr: () => err }
}

describe('tandem-relay', () => {
  it('prints its peer id, addresses and http endpoint, serves /healthz and /metrics, and exits 0 on SIGTERM', async () => {
    const data = await tempDir()
    const args = ['--data', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--http', '127.0.0.1:0']
    const run = await startCli(args)
    const [idLine, ...rest] = run.lines
    expect(idLine).toMatch(/^peer id: 12D3KooW\w+$/)
    const peerId = idLine!.slice('peer id: '.length)
    const listening = rest.filter(l => l.startsWith('listening: '))
    expect(listening).toHaveLength(2)
    expect(listening[0]).toMatch(new RegExp(`^listening: /ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peerId}$`))
    expect(listening[1]).toMatch(new RegExp(`^listening: /ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${peerId}$`))
    const httpLine = rest.at(-1)!
    expect(httpLine).toMatch(/^http: http:\/\/127\.0\.0\.1:\d+ \(\/healthz, \/metrics\)$/)
    expect(run.lines).toHaveLength(4) // nothing else on stdout (no announcing lines without --announce): logs go to stderr
    const url = httpLine.split(' ')[1]!

    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ ok: true })
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('tandem_relay_connections')

    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    expect(run.stderr()).toContain('relay stopped')

    // same data dir, same identity
    const again = await startCli(args)
    expect(again.lines[0]).toBe(idLine)
    again.child.kill('SIGINT')
    expect(await again.exit).toBe(0)
  })

  it('reads its settings from TANDEM_RELAY_* variables', async () => {
    const data = await tempDir()
    const run = await startCli([], {
      TANDEM_RELAY_DATA: data,
      TANDEM_RELAY_LISTEN: '/ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/tcp/0/ws',
      TANDEM_RELAY_HTTP: '127.0.0.1:0',
      TANDEM_RELAY_LOG_LEVEL: 'warn'
    })
    expect(run.lines.filter(l => l.startsWith('listening: '))).toHaveLength(2)
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    expect(run.stderr()).toBe('') // warn level: the info lines are not logged
  })

  it('prints where it listens and, apart, the TLS WebSocket address it announces for browsers behind a TLS proxy, and applies --max-circuits', async () => {
    const run = await startCli([
      '--data',
      await tempDir(),
      '--listen',
      '/ip4/127.0.0.1/tcp/0/ws',
      '--http',
      '127.0.0.1:0',
      '--announce',
      '/dns4/relay.example.com/tcp/443/tls/ws',
      '--max-circuits',
      '99'
    ])
    const peerId = run.lines.find(l => l.startsWith('peer id: '))!.slice(9)
    // --announce used to replace the listen address in this output: the /ws port went unseen
    const listening = run.lines.filter(l => l.startsWith('listening: '))
    expect(listening).toEqual([expect.stringMatching(new RegExp(`^listening: /ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${peerId}$`))])
    expect(run.lines.filter(l => l.startsWith('announcing: '))).toEqual([`announcing: /dns4/relay.example.com/tcp/443/tls/ws/p2p/${peerId}`])
    expect(run.lines.map(l => l.slice(0, l.indexOf(':')))).toEqual(['peer id', 'listening', 'announcing', 'http'])
    // the printed listen address is where the relay really is
    const port = Number(/\/tcp\/(\d+)\//.exec(listening[0]!)![1])
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve()
      }).once('error', reject)
    })
    const started = run
      .stderr()
      .split('\n')
      .filter(l => l !== '')
      .map(l => JSON.parse(l) as { msg: string; limits?: { maxCircuits: number } })
      .find(l => l.msg === 'relay host started')
    expect(started?.limits?.maxCircuits).toBe(99)
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
  })

  it('refuses a damaged key file with one line naming the file and its code, and exits 1', async () => {
    const data = await tempDir()
    const first = await startCli(['--data', data, '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    const peerId = first.lines.find(l => l.startsWith('peer id: '))!.slice(9)
    first.child.kill('SIGTERM')
    expect(await first.exit).toBe(0)
    const keyFile = join(data, 'peer-key')
    const bytes = await readFile(keyFile)
    bytes[10]! ^= 0x01
    await writeFile(keyFile, bytes)
    const { code, stderr: err } = await runToExit([MAIN, '--data', data, '--http', 'off', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(code).toBe(1)
    const human = err.split('\n').filter(l => l.startsWith('tandem-relay: '))
    expect(human).toEqual([
      `tandem-relay: ${keyFile} is damaged: its private half does not match its public half (peer id ${peerId}); restore it from a backup, or move it away to make a new relay identity (every device then needs the new relay address) (ERR_RELAY_CONFIG)`
    ])
  })

  it('a port in use is one line naming the address and its code, and exit 1', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>(resolve => server.close(() => resolve())))
    const port = (server.address() as { port: number }).port
    const { code, stderr: err } = await runToExit([MAIN, '--data', await tempDir(), '--http', 'off', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
    expect(code).toBe(1)
    expect(err.split('\n').filter(l => l.startsWith('tandem-relay: '))).toEqual([
      `tandem-relay: cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use 127.0.0.1:${port} (ERR_RELAY_CONFIG)`
    ])
  })

  it('refuses to start without a data directory', async () => {
    const env = { ...process.env }
    delete env.TANDEM_RELAY_DATA
    const { code, stderr: err } = await runToExit([MAIN, '--http', 'off'], { env })
    expect(code).not.toBe(0)
    expect(err).toMatch(/--data/)
  })
})

describe('tandem-relay options', () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('TANDEM_RELAY_')) delete process.env[k]
    Object.assign(process.env, saved)
  })

  it('treats an empty TANDEM_RELAY_DATA as missing', () => {
    process.env.TANDEM_RELAY_DATA = ''
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`)
    }) as never)
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      expect(() => parseOptions(['node', 'tandem-relay'])).toThrow(/exit 1/)
    } finally {
      exit.mockRestore()
      write.mockRestore()
    }
  })

  it('has the documented defaults', () => {
    const o = parseOptions(['node', 'tandem-relay', '--data', '/tmp/x'])
    expect(o.listen).toEqual(DEFAULT_LISTEN)
    expect(o.http).toEqual({ host: '127.0.0.1', port: 9090 })
    expect(o.logLevel).toBe('info')
    expect(o.accountQuotaBytes).toBe(1024 ** 3)
    expect(o.maxDevices).toBe(10)
    expect(o.maxBlobBytes).toBeUndefined()
    expect(o.maxConnections).toBeUndefined()
    expect(o.maxCircuits).toBeUndefined()
    expect(o.announce).toEqual([])
  })

  it('takes repeatable flags and limits', () => {
    const o = parseOptions([
      'node',
      'tandem-relay',
      '--data',
      'd',
      '--listen',
      '/ip4/127.0.0.1/tcp/1',
      '--listen',
      '/ip4/127.0.0.1/tcp/2/ws',
      '--announce',
      '/dns4/relay.example/tcp/4001',
      '--max-blob-bytes',
      '1MiB',
      '--account-quota',
      '5GiB',
      '--max-connections',
      '100',
      '--max-reservations',
      '50',
      '--max-circuits',
      '70',
      '--relay-data-limit',
      '64MiB',
      '--relay-duration',
      '30m',
      '--keepalive',
      '45s',
      '--keepalive-timeout',
      '5s',
      '--max-devices',
      '4',
      '--http',
      '[::1]:9191'
    ])
    expect(o.listen).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2/ws'])
    expect(o.announce).toEqual(['/dns4/relay.example/tcp/4001'])
    expect(o).toMatchObject({
      maxBlobBytes: 1024 ** 2,
      accountQuotaBytes: 5 * 1024 ** 3,
      maxConnections: 100,
      maxReservations: 50,
      maxCircuits: 70,
      relayDataLimitBytes: 64 * 1024 ** 2,
      relayDurationMs: 30 * 60_000,
      keepAliveMs: 45_000,
      keepAliveTimeoutMs: 5_000,
      maxDevices: 4,
      http: { host: '::1', port: 9191 }
    })
  })

  it('parses sizes, durations and host:port', () => {
    expect(parseBytes('1048576')).toBe(1048576)
    expect(parseBytes('1 GiB')).toBe(1024 ** 3)
    expect(parseBytes('10GB')).toBe(10e9)
    expect(() => parseBytes('lots')).toThrow()
    expect(() => parseBytes('0')).toThrow()
    expect(parseDuration('90')).toBe(90_000)
    expect(parseDuration('4h')).toBe(4 * 3_600_000)
    expect(() => parseDuration('soon')).toThrow()
    expect(parseHostPort('127.0.0.1:9090')).toEqual({ host: '127.0.0.1', port: 9090 })
    expect(parseHostPort(':9090')).toEqual({ host: '0.0.0.0', port: 9090 })
    expect(parseHostPort('off')).toBeNull()
    expect(() => parseHostPort('9090')).toThrow()
    expect(() => parseHostPort('h:70000')).toThrow()
  })
})
