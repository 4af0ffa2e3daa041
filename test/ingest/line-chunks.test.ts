import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { lineBytes, readLineChunks, readLines } from '../../src/ingest/lines.js'

async function chunked(path: string, opts: Parameters<typeof readLineChunks>[1]) {
  const out = []
  for await (const lines of readLineChunks(path, opts)) out.push(...lines)
  return out
}

test('readLineChunks: the same lines, offsets and bytes as readLines, whatever the chunk size', async () => {
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
      const expected = []
      for await (const l of readLines(path, { chunkSize, includePartial })) expected.push(l)
      const got = await chunked(path, { chunkSize, includePartial })
      expect(got.map((l) => [l.offset, l.end, l.partial])).toEqual(expected.map((l) => [l.offset, l.end, l.partial]))
      expect(got.map((l) => lineBytes(l))).toEqual(expected.map((l) => Buffer.from(l.bytes)))
      expect(got.map((l) => l.invalidBytes !== null)).toEqual(expected.map((_, i) => i === 4))
    }
  }
  const all = await chunked(path, { start: 6, includePartial: true })
  expect(all[0]?.text).toBe('beta\r')
  expect(all[2]?.text).toBe('café au lait')
  expect(all.at(-1)).toMatchObject({ text: 'last without newline', partial: true })
})
