// https://github.com/iovisor/bcc/blob/master/tools/runqslower_example.txt
import { commonMessage } from './messages.js'
import type { LineResult, LogFormat, Layout } from './types.js'
import { clean, widen } from './widths.js'

/**
 * runqslower: one row per time a thread waited on a CPU run queue longer than
 * the threshold (`min_us`, default 10000) between becoming runnable and
 * running.
 *
 * - libbpf-tools: banner `Tracing run queue latency higher than N us`, then
 *   `%-8s %-16s %-6s %14s` TIME COMM TID LAT(us); `-P` appends
 *   ` %-16s %-6s` PREV COMM, PREV TID (the task that was switched out; its
 *   `%-6d` leaves trailing spaces). TIME is the local HH:MM:SS when the row
 *   was printed, COMM 16 wide (at most 15 bytes, so always followed by a
 *   space), LAT whole microseconds right-aligned in 14.
 * - Python bcc: the same banner and columns (`-P` too) since 2020: the two
 *   are byte-identical, so both are variant `libbpf`. Older Python versions
 *   headed the id column `PID` although the value was already the kernel
 *   `pid`, i.e. the thread id: variant `python-old`, stored as `tid` too.
 *   Python pads COMM in characters, not bytes: a row whose multi-byte COMM
 *   breaks the fixed widths is re-tried with a free COMM.
 *
 * The id is always a thread id, so `pid` stays NULL. The event linker joins
 * `coalesce(pid, tid)` to the process instances: a row links to the process
 * whose PID equals its TID (its main thread, or a single-threaded process);
 * a row of another thread stays unlinked.
 */
export interface RunqslowerLayout extends Layout {
  readonly variant: 'libbpf' | 'python-old'
  /** `-P`: PREV COMM and PREV TID columns. */
  readonly previous: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(previous: boolean, looseComm: boolean): RegExp {
  const key = `${String(previous)}${String(looseComm)}`
  let re = regexCache.get(key)
  if (!re) {
    const comm = looseComm ? '(.{0,16}?) +' : '(.{16}) '
    let src = '^(\\d{2}):(\\d{2}):(\\d{2}) ' + comm + '(\\d+) +(\\d+)'
    // PREV COMM is `%-16s` after one space; PREV TID `%-6d`
    if (previous) src += ' ' + (looseComm ? '(.{0,16}?) +' : '(.{16}) ') + '(\\d+)'
    src += ' *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): RunqslowerLayout | 'banner' | undefined {
  if (/^Tracing run queue latency higher than \d+ us\s*$/.test(line)) return 'banner'
  if (!line.includes('LAT(us)')) return undefined
  const tokens = line.trim().split(/\s+/)
  if (tokens[0] !== 'TIME' || tokens[1] !== 'COMM' || tokens[3] !== 'LAT(us)') return undefined
  const id = tokens[2]
  if (id !== 'TID' && id !== 'PID') return undefined
  const previous = tokens.length === 8 && tokens.slice(4).join(' ') === 'PREV COMM PREV TID'
  if (!previous && tokens.length !== 4) return undefined
  return { variant: id === 'TID' ? 'libbpf' : 'python-old', flags: previous ? ['-P'] : [], previous }
}

function classify(line: string, layout: RunqslowerLayout, ctx: { partial: boolean }): LineResult {
  const text = widen(line)
  const m = rowRegex(layout.previous, false).exec(text) ?? rowRegex(layout.previous, true).exec(text)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete runqslower row'
        : 'not a runqslower row: expected TIME (HH:MM:SS), COMM (16 wide), ' +
          (layout.variant === 'libbpf' ? 'TID' : 'PID') +
          ', LAT(us)' +
          (layout.previous ? ', PREV COMM (16 wide) and PREV TID' : ''),
    }
  }
  return {
    kind: 'record',
    values: {
      comm: clean(m[4]).trimEnd(),
      // a thread id, never a PID: linked through `tid` (see above)
      pid: null,
      tid: Number(m[5]),
      lat_us: Number(m[6]),
      prev_comm: layout.previous ? clean(m[7]).trimEnd() : null,
      prev_tid: layout.previous ? Number(m[8]) : null,
    },
    time: { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false },
    timeText: line.slice(0, 8),
  }
}

const runqslower: LogFormat<RunqslowerLayout> = {
  name: 'runqslower',
  title: 'runqslower',
  description:
    'One row per thread that waited on a CPU run queue longer than the threshold before it ran (and, with -P, the task it replaced); the id is a thread id, so pid is NULL and a row links to the process whose PID equals its TID (main thread or single-threaded process).',
  url: 'https://github.com/iovisor/bcc/blob/master/libbpf-tools/runqslower.c',
  columns: [
    { name: 'comm', kind: 'text', description: 'task name of the thread that waited' },
    { name: 'pid', kind: 'integer', description: 'always NULL: runqslower prints a thread ID, not a process ID (linking uses tid)' },
    { name: 'tid', kind: 'integer', description: 'thread ID that waited (old Python versions headed it PID)' },
    { name: 'lat_us', kind: 'integer', unit: 'us', description: 'time from becoming runnable to running on a CPU' },
    { name: 'prev_comm', kind: 'text', description: 'task name of the task switched out for it (-P)' },
    { name: 'prev_tid', kind: 'integer', description: 'thread ID of the task switched out for it (-P; 0 is the idle task)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME     COMM             TID           LAT(us)',
      lines: [
        '15:11:18 memfd:sealed-91  29371            1885',
        '15:11:18 kcompactd0       36              56007',
      ],
    },
    {
      header: 'TIME     COMM             TID           LAT(us) PREV COMM        PREV TID',
      lines: [
        '15:11:23 sh               29447            4017 rcu_preempt      15    ',
        '15:11:24 kworker/u8:3     26711           34878 node             29431 ',
      ],
    },
  ],
}

export default runqslower
