import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'
import { startTool, stop, tracingUnavailable, waitForHeader } from '../helpers/tracing.js'

const why = await tracingUnavailable()
if (why) console.warn(`skipping real-tracing tests: ${why}`)

test(
  'real execsnoop + exitsnoop under `tracedb watch`: the tree is queryable while tracing runs',
  async ({ skip }) => {
    skip(why !== undefined, why)
    requireBuiltCli()
    const root = mkdtempSync(join(tmpdir(), 'tracedb-e2e-'))
    const dir = join(root, 'logs')
    mkdirSync(dir)
    const db = join(root, 'live.db')
    const exec = startTool('execsnoop', ['-T', '-U', '-x'], join(dir, 'execsnoop.log'))
    const exit = startTool('exitsnoop', ['-t'], join(dir, 'exitsnoop.log'))
    const watch = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] })
    try {
      await waitForHeader(join(dir, 'execsnoop.log'))
      await waitForHeader(join(dir, 'exitsnoop.log'))
      // a login-like workload: subshells (fork without exec) that exec children
      const workload = spawn('bash', [
        '-c',
        'for i in 1 2 3; do ( /bin/true; ( /bin/echo "$i" > /dev/null ) ); done; x=$(/usr/bin/id -u); sleep 0.2',
      ])
      const pid = workload.pid!
      await new Promise((ok) => workload.once('exit', ok))

      // Query while the tools are still tracing.
      const q = loadCatalog().get('descendants')!
      let rows: Record<string, unknown>[] = []
      let notYet = '' // why the last poll found nothing: the watcher may not have created or migrated the file yet
      for (let i = 0; i < 100; i++) {
        await new Promise((ok) => setTimeout(ok, 100))
        if (!existsSync(db)) continue
        let store: Store | undefined
        try {
          store = openStore(db, { readonly: true })
          rows = runQuery(store, q, bindParams(q, [String(pid)]), resolveCapture(store).id).rows as Record<string, unknown>[]
        } catch (e) {
          rows = []
          notYet = String(e)
        } finally {
          store?.close()
        }
        if (rows.filter((r) => r.comm === 'true').length === 3 && rows.some((r) => r.comm === 'id')) break
      }
      expect(exec.exitCode).toBeNull() // still tracing
      const comms = rows.map((r) => r.comm)
      expect(comms.filter((c) => c === 'true'), notYet).toHaveLength(3)
      expect(comms.filter((c) => c === 'echo')).toHaveLength(3)
      expect(comms).toContain('id')
      // the three subshells forked without exec (bash execs the last command
      // of a subshell in place, so `true` runs below a fork-only subshell)
      expect(rows.filter((r) => r.seen === 'fork')).toHaveLength(3)
      for (const t of rows.filter((r) => r.comm === 'true')) expect(t.depth).toBe(2)
    } finally {
      await stop(exec)
      await stop(exit)
      expect(await stop(watch)).toBe(0)
    }
  },
  60_000,
)
