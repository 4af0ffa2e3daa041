import { Command } from 'commander'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectCentre, pushStore, redactUrl } from '../../push/centre.js'
import type { PushOptions } from '../../push/push.js'
import { openStore } from '../../store/open.js'
import { dbOption, type CommonFlags } from '../common.js'
import { escapeControls } from '../sanitize.js'

interface PushFlags extends CommonFlags {
  to: string
  capture?: string
  json?: boolean
}

/**
 * Test hooks, read from the environment: TRACEDB_PUSH_UNIT_LINES (line ids
 * per unit) and TRACEDB_PUSH_PAUSE_MS (a pause inside each unit's
 * transaction, before it commits: a kill then lands mid-unit).
 */
export function pushHooks(): PushOptions {
  const unit = Number(process.env.TRACEDB_PUSH_UNIT_LINES)
  const pause = Number(process.env.TRACEDB_PUSH_PAUSE_MS)
  return {
    ...(unit > 0 ? { unitLines: unit } : {}),
    ...(pause > 0 ? { beforeCommit: () => sleep(pause).then(() => undefined) } : {}),
  }
}

export function pushCommand(): Command {
  return dbOption(
    new Command('push')
      .description(
        'Ship captures to a shared PostgreSQL (the centre): raw lines, records and derived tables, with the capture\'s host and unique id, so many hosts\' captures live side by side. Only what the centre lacks is sent; a second push adds nothing, and an interrupted push completes on the next run. The centre\'s tables are created on first use.',
      )
      .requiredOption('--to <url>', 'the centre: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE')
      .option('-c, --capture <name>', 'push only this capture (default: every capture of the store)')
      .option('--json', 'print the report as JSON')
      .addHelpText(
        'after',
        `
Lines are sent once their derived tables are complete (the capture's derive
watermark); each push commits in units, each with the centre's record of
what it has, so a push killed at any point loses nothing and duplicates
nothing. A host's capture is told apart from other hosts' by its uid; its
host is capture.json's hostname or --host given to ingest/watch/record.

Examples:
  $ tracedb push --to postgres://tracedb@central:5432/fleet
  $ tracedb push --to postgres://tracedb@central/fleet --capture logs --db /var/lib/tracedb/tracedb.db
  $ tracedb watch ./logs --push postgres://tracedb@central/fleet   # continuously`,
      ),
  ).action(async (flags: PushFlags) => {
    // a reader of the store: it never waits for or blocks the writer (watch may run)
    const store = openStore(flags.db, { readonly: true })
    try {
      const client = await connectCentre(flags.to)
      try {
        const reports = await pushStore(store.sqlite, client, { ...(flags.capture !== undefined ? { capture: flags.capture } : {}), ...pushHooks() })
        if (flags.json) {
          process.stdout.write(JSON.stringify(reports, null, 2) + '\n')
          return
        }
        const out: string[] = []
        for (const r of reports) {
          // source rows (a few per capture, their offsets) are sent on every push
          const rows = Object.entries(r.rows).reduce((a, [t, n]) => (t === 'source' ? a : a + n), 0)
          out.push(
            escapeControls(
              `capture "${r.capture}" (uid ${r.uid}): ${rows === 0 ? 'up to date' : `${String(rows)} rows (${String(r.rows.log_line ?? 0)} lines), ${(r.bytes / 1e6).toFixed(1)} MB`} in ${r.seconds.toFixed(2)} s`,
            ),
          )
        }
        if (reports.length === 0) out.push('no captures in this store: nothing to push')
        out.push(`pushed ${escapeControls(store.path)} to ${escapeControls(redactUrl(flags.to))}`)
        process.stdout.write(out.join('\n') + '\n')
      } finally {
        await client.end().catch(() => undefined)
      }
    } finally {
      store.close()
    }
  })
}
