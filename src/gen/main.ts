#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander'
import { generate } from './generate.js'

const int = (v: string): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer')
  return n
}

const program = new Command('tracedb-gen')
  .description('Write a deterministic synthetic capture (execsnoop, exitsnoop, opensnoop logs + truth.json) for tests and benchmarks.')
  .argument('<dir>', 'output directory')
  .option('-n, --processes <n>', 'number of processes', int, 10_000)
  .option('-s, --seed <n>', 'random seed', int, 1)
  .option('--variant <v>', 'libbpf or python layouts', 'libbpf')
  .option('--pid-max <n>', 'pid_max of the simulated host (PIDs wrap there)', int, 4_194_304)
  .option('--opens <n>', 'opensnoop rows per exec\'d process', int, 0)
  .action(async (dir: string, o: { processes: number; seed: number; variant: string; pidMax: number; opens: number }) => {
    if (o.variant !== 'libbpf' && o.variant !== 'python') throw new InvalidArgumentError('--variant must be libbpf or python')
    const truth = await generate(dir, {
      processes: o.processes,
      seed: o.seed,
      variant: o.variant,
      pidMax: o.pidMax,
      opensPerProcess: o.opens,
    })
    process.stdout.write(
      `${dir}: ${String(truth.processes)} processes, ${String(truth.execLines)} execsnoop + ${String(truth.exitLines)} exitsnoop lines; roots: ${truth.roots
        .map((r) => `${r.name} ${String(r.pid)} (${String(r.descendants)} descendants)`)
        .join(', ')}\n`,
    )
  })

await program.parseAsync()
