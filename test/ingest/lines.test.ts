import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { decodeLine, readLines } from '../../src/ingest/lines.js'

async function collect(path: string, opts: Parameters<typeof readLines>[1]) {
  const out = []
  for await (const l of readLines(path, opts)) out.push({ text: l.bytes.toString('latin1'), offset: l.offset, end: l.end, partial: l.partial })
  return out
}

test('lines with offsets, across chunk boundaries, partial last line held back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedb-lines-'))
  const path = join(dir, 'a.log')
  writeFileSync(path, 'alpha\nbeta\r\ngamma')
  const held = await collect(path, { chunkSize: 3 })
  expect(held).toEqual([
    { text: 'alpha', offset: 0, end: 6, partial: false },
    { text: 'beta\r', offset: 6, end: 12, partial: false },
  ])
  const all = await collect(path, { chunkSize: 4, includePartial: true })
  expect(all.at(-1)).toEqual({ text: 'gamma', offset: 12, end: 17, partial: true })
  expect(await collect(path, { start: 6, includePartial: true })).toHaveLength(2)
})

test('decodeLine keeps invalid UTF-8 visible', () => {
  expect(decodeLine(Buffer.from('plain'))).toEqual({ text: 'plain', invalid: false })
  expect(decodeLine(Buffer.from('café'))).toEqual({ text: 'café', invalid: false })
  const bad = decodeLine(Buffer.from([0x61, 0xff, 0x62]))
  expect(bad.invalid).toBe(true)
  expect(bad.text).toBe('a\uFFFDb')
})
