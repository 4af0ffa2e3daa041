import { Command } from 'commander'
import { rebuild } from '../../ingest/ingest.js'
import { openStore } from '../../store/open.js'
import { dbOption, writerLock, type CommonFlags } from '../common.js'

export function rebuildCommand(): Command {
  return dbOption(
    new Command('rebuild')
      .description(
        'Re-parse every stored line and rebuild the per-tool and derived tables from the event store (after upgrading tracedb, e.g. a parser fix). The logs themselves are not needed.',
      )
      .option('-c, --capture <name>', 'only this capture'),
  ).action(async (flags: CommonFlags & { capture?: string }) => {
    const lock = await writerLock(flags.db)
    const store = openStore(flags.db)
    try {
      const r = rebuild(store, flags.capture === undefined ? {} : { capture: flags.capture })
      process.stdout.write(
        `rebuilt ${String(r.sources)} sources: ${String(r.lines)} lines, ${String(r.records)} records, ${String(r.bad)} bad; ${String(r.processes)} process instances\n`,
      )
    } finally {
      store.close()
      lock.release()
    }
  })
}
