#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import pc from 'picocolors'
import { DatabaseError, TracedbError } from '../errors.js'
import { ingestCommand } from './commands/ingest.js'
import { queryCommand } from './commands/query.js'
import { schemaCommand } from './commands/schema.js'
import { sqlCommand } from './commands/sql.js'
import { formatsCommand } from './commands/formats.js'
import { watchCommand } from './commands/watch.js'
import { rebuildCommand } from './commands/rebuild.js'
import { checkCommand } from './commands/check.js'
import { pushCommand } from './commands/push.js'
import { recordCommand } from './commands/record.js'
import { exportCommand } from './commands/export.js'
import { compareCommand } from './commands/compare.js'
import { migrateCommand } from './commands/migrate.js'
import { whyCommand } from './commands/why.js'
import { isTty } from './common.js'
import { escapeLines } from './sanitize.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** The `tracedb` program (exported for in-process tests). */
export function buildProgram(): Command {
  const program = new Command('tracedb')
    .version(pkg.version)
    .description(
      'Turn the text logs of eBPF tracing tools (bcc, libbpf-tools: execsnoop, exitsnoop, tcpstates, ...) into a SQLite event store and answer an investigation\'s questions with named SQL queries.',
    )
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ tracedb ingest ./logs                # one directory = one capture
  $ tracedb query descendants 1442       # every process under PID 1442
  $ tracedb query tree 1442              # the same, drawn as a tree
  $ tracedb why 1442                     # where the tree's time goes
  $ tracedb query --list                 # all named queries
  $ sqlite3 tracedb.db 'select * from process limit 5'`,
    )
  program.addCommand(recordCommand())
  program.addCommand(ingestCommand())
  program.addCommand(watchCommand())
  program.addCommand(queryCommand())
  program.addCommand(sqlCommand())
  program.addCommand(exportCommand())
  program.addCommand(compareCommand())
  program.addCommand(whyCommand())
  program.addCommand(pushCommand())
  program.addCommand(schemaCommand())
  program.addCommand(rebuildCommand())
  program.addCommand(migrateCommand())
  program.addCommand(checkCommand())
  program.addCommand(formatsCommand())
  return program
}

/** SQLite failures a user can act on, as known errors. */
function fromSqliteError(error: unknown): TracedbError | undefined {
  if (!(error instanceof Error) || error.name !== 'SqliteError') return undefined
  const code = (error as Error & { code?: string }).code ?? ''
  if (code.startsWith('SQLITE_FULL') || code === 'SQLITE_IOERR_WRITE') {
    return new DatabaseError(`cannot write the database: ${error.message}`, {
      hint: 'free some disk space and run the same command again: what was committed is consistent, and ingestion resumes where it stopped',
    })
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new DatabaseError(`the database is corrupt: ${error.message}`, {
      hint: 'run `tracedb check` for details; re-ingest the logs into a new --db to start over',
    })
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return new DatabaseError(`the database is locked by another program: ${error.message}`, {
      hint: 'wait for the other writer to finish, or use another --db',
    })
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new DatabaseError(`the database is read-only: ${error.message}`, { hint: 'check the file\'s permissions' })
  }
  return undefined
}

/** Runs the CLI; known errors become one message and an exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  // `tracedb query ... | head`: a closed pipe is not an error
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  const program = buildProgram()
  // commander's own errors quote the arguments, which may have been pasted from log text
  const outputError = (text: string, write: (text: string) => void): void => write(escapeLines(text))
  for (const c of [program, ...program.commands]) c.exitOverride().configureOutput({ outputError })
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help/version)
      return error.exitCode === 0 ? 0 : 2
    }
    const known = error instanceof TracedbError ? error : fromSqliteError(error)
    if (!known) throw error
    const color = isTty(process.stderr)
    // messages quote log lines, paths and capture names: escaped like any log text
    process.stderr.write(`${color ? pc.red('error') : 'error'}: ${escapeLines(known.message)}\n`)
    if (known.hint) process.stderr.write(`${color ? pc.cyan('hint') : 'hint'}: ${escapeLines(known.hint)}\n`)
    return known.exitCode
  }
}

// Run when executed directly (the bin), not when imported by tests.
const invoked = process.argv[1] ?? ''
if (/(?:^|[\\/])(main\.js|tracedb)$/.test(invoked)) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`tracedb: internal error, please report it: ${escapeLines((error as Error).stack ?? String(error))}\n`)
      process.exitCode = 70
    },
  )
}
