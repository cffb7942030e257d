import { execFile } from 'node:child_process'
import { StoreCorruptError } from '@tandem/protocol'

/** How long LevelDB's repair of a device store may take (it rewrites every table it keeps). */
const REPAIR_TIMEOUT_MS = 120_000

/** The child's program: classic-level's repair of the directory in argv[1]; the module's URL is argv[2]. */
const REPAIR_PROGRAM = 'const [dir, url] = process.argv.slice(1); const { ClassicLevel } = await import(url); await ClassicLevel.repair(dir)'

/**
 * Runs LevelDB's RepairDB on `location` in a child process. RepairDB copies a table whose keys
 * it could not all parse into a new one without checking its blocks, and a flipped bit in a
 * key can then reach LevelDB's `TableBuilder::Add` out of order: an assertion that aborts the
 * whole process (test/integration/store-corruption.test.ts, a bit flip at byte 89 of a table).
 * In a child, that abort is a store refused with ERR_STORE_CORRUPT, and the device process
 * goes on to say so.
 */
export async function repairInChild(location: string): Promise<void> {
  const url = import.meta.resolve('classic-level')
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', REPAIR_PROGRAM, location, url], { timeout: REPAIR_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve()
        return
      }
      const why = err.killed ? `it took longer than ${REPAIR_TIMEOUT_MS / 1000} s` : (stderr.trim().split('\n').pop() ?? err.message)
      reject(new StoreCorruptError(`the store is damaged and LevelDB could not repair it (${why})`, { cause: err }))
    })
  })
}
