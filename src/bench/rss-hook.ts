// Loaded with `node --import` into a measured child: reports its peak RSS at exit.
process.on('exit', () => {
  process.stderr.write(`\n__TRACEDB_BENCH_MAXRSS_KB__ ${String(process.resourceUsage().maxRSS)}\n`)
})
