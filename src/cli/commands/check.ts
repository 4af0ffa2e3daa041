import { Command } from 'commander'
import { openReader } from '../../store/reader.js'
import { dbOption, type CommonFlags } from '../common.js'
import { DatabaseError } from '../../errors.js'
import { escapeControls } from '../sanitize.js'

export function checkCommand(): Command {
  return dbOption(
    new Command('check')
      .description(
        'Check the database for corruption (SQLite quick_check; --full for integrity_check; on PostgreSQL the server keeps its own checks, so only the counts) and count what it holds.',
      )
      .option('--full', 'run the slower, complete integrity_check'),
  ).action(async (flags: CommonFlags & { full?: boolean }) => {
    const reader = await openReader(flags.db)
    try {
      const report = await reader.check(flags.full)
      if (report.problems.length > 0) {
        throw new DatabaseError(`"${flags.db}" is corrupt: ${report.problems.slice(0, 5).join('; ')}`, {
          hint: 're-ingest the logs into a new --db (the logs are the source of truth)',
        })
      }
      process.stdout.write(
        `${escapeControls(reader.location)}: ok — ${String(report.captures)} captures, ${String(report.files)} files, ${String(report.lines)} lines, ${String(report.bad)} bad, ${String(report.processes)} process instances\n`,
      )
    } finally {
      await reader.close()
    }
  })
}
