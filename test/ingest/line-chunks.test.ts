import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { lineBytes, readLineChunks } from '../../src/ingest/lines.js'

async function chunked(path: string, opts: Parameters<typeof readLineChunks>[1]) {
  const out = []
  for await (const lines of readLineChunks(path, opts)) out.push(...lines)
  return out
}

/** The lines of `bytes` by a plain split: [offset, end, partial, bytes]. */
function split(bytes: Buffer, includePartial: boolean): [number, number, boolean, Buffer][] {
  const out: [number, number, boolean, Buffer][] = []
  let from = 0
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, from)) {
    out.push([from, nl + 1, false, bytes.subarray(from, nl)])
    from = nl + 1
  }
  if (includePartial && from < bytes.length) out.push([from, bytes.length, true, bytes.subarray(from)])
  return out
}

test('readLineChunks: every line with its offsets and exact bytes, whatever the chunk size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedb-chunks-'))
  const path = join(dir, 'a.log')
  const bytes = Buffer.concat([
    Buffer.from('alpha\nbeta\r\n\ncafé au lait\n'),
    Buffer.from([0x61, 0xff, 0x62, 0x0a]), // invalid UTF-8
    Buffer.from('plain ascii again\nlast without newline'),
  ])
  writeFileSync(path, bytes)
  for (const chunkSize of [1, 2, 3, 5, 7, 64, 1 << 20]) {
    for (const includePartial of [false, true]) {
      const expected = split(bytes, includePartial)
      const got = await chunked(path, { chunkSize, includePartial })
      expect(got.map((l) => [l.offset, l.end, l.partial, lineBytes(l)])).toEqual(expected)
      expect(got.map((l) => l.invalidBytes !== null)).toEqual(expected.map((_, i) => i === 4))
    }
  }
  const all = await chunked(path, { start: 6, includePartial: true })
  expect(all[0]?.text).toBe('beta\r')
  expect(all[2]?.text).toBe('café au lait')
  expect(all.at(-1)).toMatchObject({ text: 'last without newline', partial: true })
})
