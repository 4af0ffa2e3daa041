// https://github.com/iovisor/bcc/blob/master/tools/filelife_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { clean, widen } from './widths.js'

/**
 * filelife: one row per file created and deleted while the tool ran,
 * printed at deletion. Both variants print `TIME PID COMM AGE(s) FILE` with
 * `%-8s %-Nd %-16s %-7.2f %s`; libbpf-tools puts a banner (`Tracing the
 * lifespan of short-lived files ...`) before the header and pads PID to 6,
 * Python >= 0.25 pads PID to 7 (Python <= 0.24 prints the libbpf header, so
 * the variant of a 6-wide header is `libbpf/python-0.24`). FILE is the
 * rest of the line (a name, not a path, except libbpf -F).
 */
export interface FilelifeLayout extends Layout {
  /**
   * `python`: PID 7 wide (Python >= 0.25). `libbpf/python-0.24`: PID 6 wide,
   * printed by libbpf-tools (after its banner) and by Python <= 0.24 alike;
   * the header alone cannot tell them apart, and their rows parse the same.
   */
  readonly variant: 'libbpf/python-0.24' | 'python'
}

const ROW = /^(\d{2}):(\d{2}):(\d{2}) (\d+) +(.{16}) (\d+\.\d{2})( *)(.*)$/

function detect(line: string): FilelifeLayout | 'banner' | undefined {
  if (line.startsWith('Tracing the lifespan of short-lived files')) return 'banner'
  if (!line.includes('AGE(s)')) return undefined
  if (line.trim().split(/\s+/).join(' ') !== 'TIME PID COMM AGE(s) FILE') return undefined
  return { variant: /PID {5}COMM/.test(line) ? 'python' : 'libbpf/python-0.24', flags: [] }
}

function classify(line: string, _layout: FilelifeLayout, ctx: { partial: boolean }): LineResult {
  const m = ROW.exec(widen(line))
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete filelife row'
        : 'not a filelife row: expected TIME (HH:MM:SS), PID, COMM (16 wide), AGE(s) (2 decimals) and FILE',
    }
  }
  const age = m[6] ?? ''
  // `%-7.2f `: AGE padded to 7, then one space, then FILE (which may start with spaces)
  const pad = (m[7] ?? '').length
  const needed = Math.max(7 - age.length, 0) + 1
  const rest = clean(m[8])
  let file: string
  if (pad >= needed) file = ' '.repeat(pad - needed) + rest
  else if (pad > 0 || rest === '') file = rest
  else return { kind: 'bad', reason: `AGE(s) "${age}" is not followed by a space before FILE` }
  return {
    kind: 'record',
    values: {
      pid: Number(m[4]),
      comm: clean(m[5]).trimEnd(),
      age_s: Number(age),
      file: file === '' ? null : file,
    },
    time: { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false },
    timeText: line.slice(0, 8),
  }
}

const filelife: LogFormat<FilelifeLayout> = {
  name: 'filelife',
  title: 'filelife',
  description:
    'One row per short-lived file: a file created and then deleted while the tool ran, with who deleted it and how old it was.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/filelife_example.txt',
  columns: [
    { name: 'pid', kind: 'integer', description: 'process ID (tgid) of the process that deleted the file (not necessarily its creator)' },
    { name: 'comm', kind: 'text', description: 'task name of the deleting process' },
    { name: 'age_s', kind: 'real', unit: 's', description: 'time between creation and deletion, 2 decimals (Python: 1 ms resolution)' },
    { name: 'file', kind: 'text', description: 'the file name (last path component, possibly truncated; a full path with libbpf -F)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME     PID    COMM             AGE(s)  FILE',
      lines: [
        '05:57:59 8556   gcc              0.04    ccCB5EDe.s',
        '05:58:00 8650   rm               0.02    .vdso32-setup.o.d',
        '05:58:01 8690   collect2         0.00    ccvKMxdm.ld',
      ],
    },
  ],
}

export default filelife
