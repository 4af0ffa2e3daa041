import biosnoop from './biosnoop.js'
import drsnoop from './drsnoop.js'
import execsnoop from './execsnoop.js'
import exitsnoop from './exitsnoop.js'
import filelife from './filelife.js'
import killsnoop from './killsnoop.js'
import opensnoop from './opensnoop.js'
import runqslower from './runqslower.js'
import shmsnoop from './shmsnoop.js'
import sofdsnoop from './sofdsnoop.js'
import tcpaccept from './tcpaccept.js'
import tcpconnect from './tcpconnect.js'
import tcpconnlat from './tcpconnlat.js'
import tcplife from './tcplife.js'
import tcpretrans from './tcpretrans.js'
import tcpstates from './tcpstates.js'
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
  tcpstates,
  tcplife,
  tcpretrans,
  tcpconnlat,
  tcpconnect,
  tcpaccept,
  biosnoop,
  drsnoop,
  runqslower,
  filelife,
  shmsnoop,
  sofdsnoop,
  opensnoop,
  killsnoop,
] as LogFormat[]

/** The format named `name`, or undefined. */
export function findFormat(name: string): LogFormat | undefined {
  return FORMATS.find((f) => f.name === name)
}
