import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { LogFormat } from '../formats/types.js'
import type { StoredState } from './writer.js'
import { SourceParser } from './source-parser.js'

/**
 * Which file is this? A new file's tool is recognised from its head; a file
 * already read is recognised by device+inode and the fingerprint of its
 * first line, and a rewrite is told from an append by the bytes of its last
 * committed line. Everything is read through one open handle, so a file
 * renamed away and replaced meanwhile (a rotation) is never mistaken for
 * the one recognised.
 */

/** Bytes read from a new file's head to recognise its tool. */
const SNIFF_BYTES = 64 * 1024

/** True when the bytes of the last committed line are still where they were. */
export async function tailMatches(handle: FileHandle, state: string | null): Promise<boolean> {
  if (!state) return true
  const tail = (JSON.parse(state) as StoredState).tail
  if (!tail) return true
  const buf = Buffer.alloc(tail.length)
  const { bytesRead } = await handle.read(buf, 0, tail.length, tail.offset)
  return bytesRead === tail.length && createHash('sha1').update(buf).digest('hex') === tail.sha1
}

/** Reads the first line's bytes (up to 4 KiB) for the file's fingerprint. */
export async function fingerprintOf(handle: FileHandle): Promise<{ fingerprint: string | null; head: Buffer }> {
  const head = Buffer.alloc(SNIFF_BYTES)
  const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0)
  const data = head.subarray(0, bytesRead)
  if (bytesRead === 0) return { fingerprint: null, head: data }
  const nl = data.indexOf(0x0a)
  const first = data.subarray(0, nl === -1 ? Math.min(data.length, 4096) : Math.min(nl, 4096))
  return { fingerprint: createHash('sha1').update(first).digest('hex'), head: data }
}

/** Tries the formats on a file's head: a header found, only messages, or not a log. */
export function sniff(head: Buffer, formats: readonly LogFormat[]): { ok: true } | { ok: false; reason: string } {
  const parser = new SourceParser(formats)
  const lines = head.toString('utf8').split('\n')
  if (head.length === SNIFF_BYTES) lines.pop() // cut mid-line
  let bad = 0
  for (const line of lines) {
    const p = parser.push(line.endsWith('\r') ? line.slice(0, -1) : line)
    if (parser.layout) return { ok: true }
    if (p.kind === 'bad') bad++
  }
  if (bad === 0) return { ok: true } // only tool messages so far (or empty): keep them
  return {
    ok: false,
    reason: `not a known tool's log: no header of ${formats.map((f) => f.name).join('/')} in its first ${String(lines.length)} lines`,
  }
}

