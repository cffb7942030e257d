import { expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'

// The driver of device processes (the `npm start` launcher's, the tests'). A device that is
// exiting has closed its end of the control pipe while its exit is not in yet: a command
// written then fails with EPIPE, and that error, unheard, ended the driver itself (the
// launcher exited 1 on Ctrl-C, which reaches the devices as it asks them to stop).

it('a command to a device that closed its control pipe fails as that command, and the driver goes on', async () => {
  // a stand-in that has closed its stdin and stays up until killed (the window a dying device leaves open)
  const script = 'process.stdin.destroy(); process.stdout.write(JSON.stringify({ event: "closed" }) + "\\n"); setInterval(() => {}, 1000)'
  const d = DeviceProcess.start('closing', [], ['node', '-e', script, '--'])
  try {
    await d.waitForEvent(e => e.event === 'closed', 10_000)
    // (writes large enough that the kernel reports the closed pipe rather than buffering them)
    const asked = d.request('info', { pad: 'x'.repeat(1 << 20) }, 2_000)
    await expect(asked).rejects.toThrow(/closing: info timed out after 2000 ms/)
  } finally {
    await d.kill()
  }
  expect(await d.exited).toBeNull()
})
