import type { RecordTime } from './types.js'

/** Fields shared by the TCP tools (tcpstates, tcplife, tcpretrans). */

/** `HH:MM:SS` as printed by -T. */
export const CLOCK = /^(\d{1,2}):(\d{2}):(\d{2})$/

/** `0.0.0.0` / `::` (unbound or listening) → NULL. */
export const addr = (a: string): string | null => (a === '0.0.0.0' || a === '::' ? null : a)
/** Port 0 (not yet bound, or a listening socket's remote) → NULL. */
export const port = (p: string): number | null => (p === '0' ? null : Number(p))
/** 4 or 6, from the address's notation. */
export const family = (a: string): number => (a.includes(':') ? 6 : 4)

/**
 * The IP version of a row: the printed IP column when the layout has one
 * (a string saying what is wrong when it is neither 4 nor 6), else the
 * local address's notation.
 */
export function ipVersion(printed: string | undefined, laddr: string): number | { bad: string } {
  if (printed === undefined) return family(laddr)
  return printed === '4' || printed === '6' ? Number(printed) : { bad: `IP "${printed}" is not 4 or 6` }
}

export interface Times {
  time?: RecordTime
  timeText?: string
  /** seconds since the first event (-t / TIME(s) with decimals) */
  elapsed: number | null
}

/**
 * The leading time columns of a row: a wall clock (`-T`), seconds since the
 * first event (`-t`), or both; a clock wins as the record's time.
 */
export function readTimes(tokens: readonly string[]): Times | string {
  const out: Times = { elapsed: null }
  for (const t of tokens) {
    const c = CLOCK.exec(t)
    if (c) {
      out.time = { kind: 'clock', hour: Number(c[1]), minute: Number(c[2]), second: Number(c[3]), utc: false }
      out.timeText = t
    } else if (/^\d+\.\d+$/.test(t)) {
      out.elapsed = Number(t)
      if (!out.time || out.time.kind !== 'clock') {
        out.time = { kind: 'relative', seconds: out.elapsed, since: 'first_event', decimals: t.length - t.indexOf('.') - 1 }
        out.timeText = t
      }
    } else return `bad time "${t}"`
  }
  return out
}
