import { Command } from 'commander'
import { openStore } from '../../store/open.js'
import { dbOption, type CommonFlags } from '../common.js'
import { DatabaseError } from '../../errors.js'
import { escapeControls } from '../sanitize.js'

export function checkCommand(): Command {
  return dbOption(
    new Command('check')
      .description('Check the database file for corruption (SQLite quick_check; --full for integrity_check) and count what it holds.')
      .option('--full', 'run the slower, complete integrity_check'),
  ).action((flags: CommonFlags & { full?: boolean }) => {
    const store = openStore(flags.db, { readonly: true })
    try {
      const problems = store.sqlite.prepare(`PRAGMA ${flags.full ? 'integrity_check' : 'quick_check'}`).pluck().all() as string[]
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw new DatabaseError(`"${flags.db}" is corrupt: ${problems.slice(0, 5).join('; ')}`, {
          hint: 're-ingest the logs into a new --db (the logs are the source of truth)',
        })
      }
      const count = (sql: string): number => Number(store.sqlite.prepare(sql).pluck().get())
      process.stdout.write(
        `${escapeControls(flags.db)}: ok — ${String(count('SELECT count(*) FROM capture'))} captures, ${String(count('SELECT count(*) FROM source'))} files, ${String(count('SELECT count(*) FROM log_line'))} lines, ${String(count("SELECT count(*) FROM log_line WHERE kind = 'bad'"))} bad, ${String(count('SELECT count(*) FROM process'))} process instances\n`,
      )
    } finally {
      store.close()
    }
  })
}
