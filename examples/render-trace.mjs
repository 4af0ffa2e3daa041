#!/usr/bin/env node
// Renders a Chrome trace-event JSON file written by `tracedb export --format
// perfetto` as a standalone SVG timeline, for pictures in the docs and for a
// quick look where no trace viewer is at hand. It is NOT the Perfetto UI: one
// row per process track in the file's order (process_sort_index, else first
// appearance), the track name on the left (indented by the tree, rebuilt from
// the slices' pid/ppid args), complete events ('X') as bars, instant events
// ('i') as ticks, and a time axis in milliseconds from the trace's origin.
// Plain Node, no dependencies.
//
//   node examples/render-trace.mjs login.trace.json --out login.svg
//   node examples/render-trace.mjs login.trace.json --max-depth 3 --from 1000 --to 4600 --out login.svg
//   chromium --headless --screenshot=login.png --window-size=WIDTH,HEIGHT login.svg
//
// (the script prints WIDTH and HEIGHT of the SVG on stderr)

import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const USAGE = `usage: node examples/render-trace.mjs TRACE.json [options]
  --out FILE        write the SVG to FILE (default: stdout)
  --max-depth N     only tracks at most N levels below a root track
  --from MS         start of the time window, ms from the trace origin (default: first event)
  --to MS           end of the time window (default: last event)
  --width PX        width of the picture (default: 1400)
  --row PX          height of one track (default: 15)
  --label PX        width of the track-name column (default: 430)
  --title TEXT      title line (default: the file name and the trace's metadata)`

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    'max-depth': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    width: { type: 'string', default: '1400' },
    row: { type: 'string', default: '15' },
    label: { type: 'string', default: '430' },
    title: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (opt.help || positionals.length !== 1) {
  process.stderr.write(USAGE + '\n')
  process.exit(opt.help ? 0 : 2)
}

/** @param {string | undefined} s @param {string} name */
const num = (s, name) => {
  if (s === undefined) return undefined
  const n = Number(s)
  if (!Number.isFinite(n)) {
    process.stderr.write(`render-trace: --${name} wants a number, got ${JSON.stringify(s)}\n`)
    process.exit(2)
  }
  return n
}

const file = positionals[0]
const raw = JSON.parse(readFileSync(file, 'utf8'))
/** @type {any[]} */
const events = Array.isArray(raw) ? raw : (raw.traceEvents ?? [])
const metadata = Array.isArray(raw) ? {} : (raw.metadata ?? {})

// ---- tracks, in the file's order -------------------------------------------------
/** @typedef {{ key: string, name: string, sort: number, first: number, depth: number, slices: any[], instants: any[] }} Track */
/** @type {Map<string, Track>} */
const tracks = new Map()
const track = (/** @type {any} */ e, /** @type {number} */ i) => {
  const key = String(e.pid)
  let t = tracks.get(key)
  if (!t) {
    t = { key, name: `pid ${key}`, sort: Infinity, first: i, depth: 0, slices: [], instants: [] }
    tracks.set(key, t)
  }
  return t
}
events.forEach((e, i) => {
  const t = track(e, i)
  if (e.ph === 'M' && e.name === 'process_name' && typeof e.args?.name === 'string') t.name = e.args.name
  else if (e.ph === 'M' && e.name === 'process_sort_index' && Number.isFinite(e.args?.sort_index)) t.sort = e.args.sort_index
  else if (e.ph === 'X' && Number.isFinite(e.ts)) t.slices.push(e)
  else if ((e.ph === 'i' || e.ph === 'I') && Number.isFinite(e.ts)) t.instants.push(e)
})
const ordered = [...tracks.values()]
  .filter((t) => t.slices.length > 0 || t.instants.length > 0)
  .sort((a, b) => a.sort - b.sort || a.first - b.first)

// Depth: the tracks come depth-first, so a track's parent is the nearest open
// ancestor whose PID is this track's PPID (args of its lifetime slice).
/** @type {{ pid: unknown }[]} */
const stack = []
for (const t of ordered) {
  const a = t.slices[0]?.args ?? {}
  while (stack.length > 0 && (a.ppid === undefined || stack[stack.length - 1].pid !== a.ppid)) stack.pop()
  t.depth = stack.length
  stack.push({ pid: a.pid })
}
const maxDepth = num(opt['max-depth'], 'max-depth')
const shown = maxDepth === undefined ? ordered : ordered.filter((t) => t.depth <= maxDepth)

// ---- geometry ----------------------------------------------------------------------
const times = shown.flatMap((t) => [...t.slices.flatMap((s) => [s.ts, s.ts + (s.dur ?? 0)]), ...t.instants.map((e) => e.ts)])
if (times.length === 0) {
  process.stderr.write(`render-trace: ${file} has no slices or instants to draw\n`)
  process.exit(1)
}
const lo = (num(opt.from, 'from') ?? Math.min(...times) / 1000) * 1000
const hi = (num(opt.to, 'to') ?? Math.max(...times) / 1000) * 1000
const W = num(opt.width, 'width') ?? 1400
const ROW = num(opt.row, 'row') ?? 15
const LABEL = num(opt.label, 'label') ?? 430
const PAD = 12
const HEAD = 78
const x0 = LABEL + PAD
const x1 = W - PAD
const H = HEAD + shown.length * ROW + 34
const span = Math.max(1, hi - lo)
const x = (/** @type {number} */ us) => x0 + ((us - lo) / span) * (x1 - x0)
const inside = (/** @type {number} */ us) => us >= lo && us <= hi

const esc = (/** @type {unknown} */ s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
const CHAR = 6.7 // width of one character of the 11px monospace font
const clip = (/** @type {string} */ s, /** @type {number} */ px) => {
  const n = Math.floor(px / CHAR)
  return s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '…'
}

const SLICE = { exec: '#4e79a7', fork: '#a0a7b0', inferred: '#d9dde2' }
const TICK = { exec: '#2e9e44', exit: '#b8312f', tcp: '#e8871e', other: '#8e5ea2' }
const sliceColor = (/** @type {any} */ s) => {
  const seen = String(s.args?.seen ?? 'exec')
  return seen.startsWith('fork') ? SLICE.fork : seen.startsWith('inferred') ? SLICE.inferred : SLICE.exec
}
const tickColor = (/** @type {any} */ e) => {
  const cat = String(e.cat ?? '')
  return cat === 'execsnoop' ? TICK.exec : cat === 'exit' ? TICK.exit : cat.startsWith('tcp') ? TICK.tcp : TICK.other
}

// a tick step of 1, 2 or 5 times a power of ten, about every 110 px
const niceStep = (/** @type {number} */ ms) => {
  const raw = ms / Math.max(1, (x1 - x0) / 110)
  const p = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p
}

// ---- SVG ---------------------------------------------------------------------------
const out = []
out.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans Mono, monospace" font-size="11">`,
  `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
)
const title =
  opt.title ??
  `${file.split('/').pop()}: ${shown.length} of ${ordered.length} process tracks` +
    (metadata.root_pid !== undefined ? `, root PID ${metadata.root_pid}` : '') +
    (maxDepth !== undefined ? `, depth ≤ ${maxDepth}` : '')
out.push(`<text x="${PAD}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`)
out.push(
  `<text x="${PAD}" y="34" fill="#555">rendering of the exported trace (examples/render-trace.mjs), not the Perfetto UI; time in ms from ${esc(metadata.time_origin_utc ?? 'the trace origin')}</text>`,
)
// legend
let lx = PAD
const legend = (/** @type {string} */ kind, /** @type {string} */ color, /** @type {string} */ text) => {
  out.push(
    kind === 'bar'
      ? `<rect x="${lx}" y="43" width="18" height="9" fill="${color}"/>`
      : `<rect x="${lx + 8}" y="41" width="2" height="13" fill="${color}"/>`,
    `<text x="${lx + 23}" y="52">${esc(text)}</text>`,
  )
  lx += 23 + text.length * CHAR + 16
}
legend('bar', SLICE.exec, 'lifetime (exec seen)')
legend('bar', SLICE.fork, 'lifetime (fork without exec)')
legend('bar', SLICE.inferred, 'inferred parent')
legend('tick', TICK.exec, 'exec')
legend('tick', TICK.exit, 'exit')
legend('tick', TICK.tcp, 'tcp')
legend('tick', TICK.other, 'other tool')

// time axis and grid
const step = niceStep(span / 1000)
const axisY = HEAD - 6
out.push(`<line x1="${x0}" y1="${axisY}" x2="${x1}" y2="${axisY}" stroke="#888"/>`)
for (let ms = Math.ceil(lo / 1000 / step) * step; ms * 1000 <= hi + 1e-6; ms += step) {
  const gx = x(ms * 1000).toFixed(1)
  const label = `${Number(ms.toFixed(6))} ms`
  out.push(
    `<line x1="${gx}" y1="${axisY - 4}" x2="${gx}" y2="${H - 30}" stroke="#e3e3e3"/>`,
    `<text x="${gx}" y="${axisY - 7}" text-anchor="middle" fill="#333">${label}</text>`,
  )
}

// rows
shown.forEach((t, i) => {
  const y = HEAD + i * ROW
  if (i % 2 === 1) out.push(`<rect x="0" y="${y}" width="${W}" height="${ROW}" fill="#f6f7f9" fill-opacity="0.8"/>`)
  const indent = Math.min(t.depth, 12) * 10
  out.push(`<text x="${PAD + indent}" y="${y + ROW - 4}">${esc(clip(t.name, LABEL - indent - 4))}</text>`)
  for (const s of t.slices) {
    const a = Math.max(s.ts, lo)
    const b = Math.min(s.ts + (s.dur ?? 0), hi)
    if (b < a) continue
    const sx = x(a)
    const sw = Math.max(2, x(b) - sx)
    const tip = `${s.name}  ${(s.ts / 1000).toFixed(1)} ms + ${((s.dur ?? 0) / 1000).toFixed(1)} ms`
    out.push(
      `<rect x="${sx.toFixed(1)}" y="${y + 2}" width="${sw.toFixed(1)}" height="${ROW - 4}" fill="${sliceColor(s)}"><title>${esc(tip)}</title></rect>`,
    )
    if (sw > 40) out.push(`<text x="${(sx + 3).toFixed(1)}" y="${y + ROW - 4}" fill="#fff">${esc(clip(String(s.name), sw - 6))}</text>`)
  }
  for (const e of t.instants) {
    if (!inside(e.ts)) continue
    out.push(
      `<rect x="${(x(e.ts) - 1).toFixed(1)}" y="${y}" width="2" height="${ROW}" fill="${tickColor(e)}"><title>${esc(`${e.name}  ${(e.ts / 1000).toFixed(1)} ms`)}</title></rect>`,
    )
  }
})
out.push(`<line x1="${x0}" y1="${H - 30}" x2="${x1}" y2="${H - 30}" stroke="#888"/>`)
const hidden = ordered.length - shown.length
out.push(
  `<text x="${PAD}" y="${H - 12}" fill="#555">${esc(
    `${hidden > 0 ? `${hidden} deeper tracks not shown. ` : ''}Window ${(lo / 1000).toFixed(0)}–${(hi / 1000).toFixed(0)} ms. Indentation: parent = nearest track above whose PID is this track's PPID.`,
  )}</text>`,
)
out.push('</svg>\n')

const svg = out.join('\n')
if (opt.out) writeFileSync(opt.out, svg)
else process.stdout.write(svg)
process.stderr.write(`render-trace: ${shown.length} tracks, ${W}x${H} px${opt.out ? ` -> ${opt.out}` : ''}\n`)
