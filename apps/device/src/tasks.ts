import type { Engine } from '@tandem/engine'
import { listDevices, revokeDevice } from './devices.js'
import { exportToFile, searchToTerminal } from './history-tasks.js'
import { linkNewDevice } from './link-existing.js'
import { linkAsNewDevice } from './link-new.js'
import type { DeviceTask } from './options.js'
import { setPassphrase } from './passphrase.js'
import { runPrompt } from './prompt.js'
import { newRecoveryPhrase, recover } from './recovery.js'
import type { Terminal } from './terminal.js'

/**
 * What the person asked the command for, on the open and started device. `link` and
 * `recover` go on as the device (the chat prompt: the history arrives while it runs, and a
 * device linked over the LAN gets it from the other one only while both run) unless `--exit`;
 * the other subcommands do their one thing and stop.
 */
export async function runTask(engine: Engine, term: Terminal, task: DeviceTask, stop: () => Promise<void>, serving = false): Promise<void> {
  switch (task.kind) {
    case 'run':
      return await runPrompt(engine, term, stop, serving)
    case 'link':
      if (task.code !== undefined) await linkNewDevice(engine, term, task.code)
      else await linkAsNewDevice(engine, term, task.ttlMs)
      return task.exit ? await stop() : await runPrompt(engine, term, stop, serving)
    case 'recover':
      await recover(engine, term, task.accountId)
      return task.exit ? await stop() : await runPrompt(engine, term, stop, serving)
    case 'devices':
      await listDevices(engine)
      return await stop()
    case 'revoke':
      await revokeDevice(engine, task.peerId)
      return await stop()
    case 'passphrase':
      await setPassphrase(engine, term, task.remove)
      return await stop()
    case 'recovery-phrase':
      await newRecoveryPhrase(engine)
      return await stop()
    case 'export':
      await exportToFile(engine, task.chatId, task.format, task.out)
      return await stop()
    case 'search':
      await searchToTerminal(engine, task.query, task.chatId, task.limit)
      return await stop()
  }
}
