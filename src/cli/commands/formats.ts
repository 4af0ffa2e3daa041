import { Command, Option } from 'commander'
import { FORMATS } from '../../formats/index.js'
import { isTty } from '../common.js'
import { outputFormat, render } from '../output.js'

export function formatsCommand(): Command {
  return new Command('formats')
    .description('List the tools whose logs tracedb reads, with their tables and columns.')
    .option('--json', 'print as JSON')
    .option('--csv', 'print as CSV')
    .option('-v, --verbose', 'also list every column')
    // every command takes --db (scripts pass it to all); formats reads no database
    .addOption(new Option('--db <file>', 'ignored: formats reads no database').hideHelp())
    .action((flags: { json?: boolean; csv?: boolean; verbose?: boolean }) => {
      const rows: Record<string, string | number | null>[] = FORMATS.flatMap((f): Record<string, string | number | null>[] =>
        flags.verbose
          ? f.columns.map((c) => ({ tool: f.name, table: `${f.name}_event`, column: c.name, type: c.kind, unit: c.unit ?? null, description: c.description }))
          : [{ tool: f.name, table: `${f.name}_event`, title: f.title, columns: f.columns.length }],
      )
      const columns = flags.verbose ? ['tool', 'table', 'column', 'type', 'unit', 'description'] : ['tool', 'table', 'title', 'columns']
      process.stdout.write(render({ columns, rows }, outputFormat(flags), isTty(process.stdout)))
    })
}
