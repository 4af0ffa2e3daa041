import execsnoop from './execsnoop.js'
import exitsnoop from './exitsnoop.js'
import type { LogFormat } from './types.js'

/**
 * Every supported tool, in detection order: a header is offered to each in
 * turn and the first that recognises it wins, so formats whose headers are a
 * superset of another's come first (tcpconnlat's `DPORT LAT(ms)` before
 * tcpconnect's `DPORT`).
 */
export const FORMATS: readonly LogFormat[] = [
  execsnoop,
  exitsnoop,
] as LogFormat[]

/** The format named `name`, or undefined. */
export function findFormat(name: string): LogFormat | undefined {
  return FORMATS.find((f) => f.name === name)
}
