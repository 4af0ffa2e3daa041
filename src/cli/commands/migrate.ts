import { Command } from 'commander'
import { existsSync } from 'node:fs'
import { DatabaseError } from '../../errors.js'
import { loadMigrations } from '../../store/migrate.js'
import { migrateStore } from '../../store/open.js'
import { dbOption, writerLock, type CommonFlags } from '../common.js'

export function migrateCommand(): Command {
  return dbOption(
    new Command('migrate')
      .description(
        'Upgrade a database written by an older tracedb (apply its pending migrations) under the writer lock. Read-only commands refuse such a database rather than change it; ingest, watch and rebuild migrate it themselves.',
      )
      .addHelpText('after', '\nExample:\n  $ tracedb migrate --db old.db && tracedb query --list --db old.db'),
  ).action(async (flags: CommonFlags) => {
    // before the lock, which would leave a <db>.lock beside a mistyped path
    if (flags.db !== ':memory:' && !existsSync(flags.db)) {
      throw new DatabaseError(`database "${flags.db}" does not exist`, {
        hint: 'check --db / TRACEDB_DB; `tracedb ingest DIR` creates a database',
      })
    }
    const lock = await writerLock(flags.db)
    try {
      const { applied } = migrateStore(flags.db)
      process.stdout.write(
        applied.length === 0
          ? `${flags.db} is up to date (${String(loadMigrations().length)} migrations)\n`
          : `applied ${String(applied.length)} migration${applied.length === 1 ? '' : 's'} to ${flags.db}: ${applied.join(', ')}\n`,
      )
    } finally {
      lock.release()
    }
  })
}
