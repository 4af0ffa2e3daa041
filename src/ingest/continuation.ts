import { FORMATS } from '../formats/index.js'
import type { Layout, LogFormat } from '../formats/types.js'

/**
 * Vets a line a format wants to glue onto the previous record (libbpf
 * execsnoop prints raw newlines inside arguments, so any line after a row
 * may be the rest of an argument).
 *
 * A real continuation is the rest of an argument: arbitrary printable text,
 * so almost nothing can be ruled out by its content. Two things can:
 * - control bytes (C0 except tab, DEL, C1): what binary garbage, a file
 *   pre-allocated with NULs after a crash, or terminal escapes look like;
 *   arguments with such bytes are rare enough that storing the line as bad
 *   (its text is kept) is the better mistake than corrupting `args`;
 * - a whole row or header of a known tool: another tool writing to the same
 *   file, or a log concatenated onto this one.
 */

/** A tool with the layouts of its sample headers: how its rows are recognised without its header. */
interface Probe {
  readonly format: LogFormat
  readonly layouts: readonly Layout[]
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/

/** The first control byte of `line` (`U+001B`), or undefined. */
export function controlByte(line: string): string | undefined {
  const m = CONTROL.exec(line)
  if (!m) return undefined
  return `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}

const PROBES = new WeakMap<readonly LogFormat[], readonly Probe[]>()

/**
 * The registered tools plus any other ones the parser was given (a library
 * user's own format), each with the distinct layouts of its samples. Built
 * once per format list: continuation lines are rare, layouts are not cheap.
 */
function probesFor(formats: readonly LogFormat[]): readonly Probe[] {
  let probes = PROBES.get(formats)
  if (probes) return probes
  const all = [...FORMATS, ...formats.filter((f) => !FORMATS.includes(f))]
  probes = all.map((format) => ({ format, layouts: sampleLayouts(format) }))
  PROBES.set(formats, probes)
  return probes
}

/**
 * Other tools first: a timeless exitsnoop row also parses as a row of an old
 * Python execsnoop layout (COMM PID PPID RET ARGS), and another tool writing
 * to the same file is the likelier story.
 */
function othersFirst(probes: readonly Probe[], current: LogFormat): readonly Probe[] {
  const own = probes.filter((p) => p.format === current)
  return [...probes.filter((p) => p.format !== current), ...own]
}

function sampleLayouts(format: LogFormat): Layout[] {
  const seen = new Map<string, Layout>()
  for (const sample of format.samples) {
    const layout = format.detect(sample.header)
    if (layout !== undefined && layout !== 'banner') seen.set(JSON.stringify(layout), layout)
  }
  return [...seen.values()]
}

/** `an execsnoop`, `a tcpstates`. */
function withArticle(name: string): string {
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`
}

/**
 * What `line` looks like when it is another tool's header or row (or a row
 * of another layout of `current`), else undefined. `current`/`layout` are
 * the tool and layout being read: a row of that layout is already a record.
 */
export function lookalike(line: string, formats: readonly LogFormat[], current: LogFormat, layout: Layout): string | undefined {
  for (const { format, layouts } of othersFirst(probesFor(formats), current)) {
    const detected = format.detect(line)
    if (detected !== undefined && detected !== 'banner') return `${withArticle(format.name)} header`
    for (const l of layouts) {
      if (format === current && JSON.stringify(l) === JSON.stringify(layout)) continue
      if (format.classify(line, l, { previous: undefined, partial: false }).kind !== 'record') continue
      return format === current
        ? `${withArticle(format.name)} record of another layout (${l.variant}${l.flags.length ? ` ${l.flags.join(' ')}` : ''})`
        : `${withArticle(format.name)} record`
    }
  }
  return undefined
}

/**
 * Why `line` is not a continuation of the `current` record at `recordLine`
 * (null: line numbers unknown), or undefined when it may well be one.
 */
export function notAContinuation(
  line: string,
  formats: readonly LogFormat[],
  current: LogFormat,
  layout: Layout,
  recordLine: number | null,
): string | undefined {
  const of = `the ${current.name} record${recordLine === null ? '' : ` at line ${String(recordLine)}`}`
  const control = controlByte(line)
  if (control !== undefined) return `control bytes (${control}): not a continuation of ${of}`
  const like = lookalike(line, formats, current, layout)
  if (like !== undefined) return `looks like ${like}, not a continuation of ${of}`
  return undefined
}
