import { open } from 'node:fs/promises'

/** One physical line of a file, as bytes, without its newline. */
export interface RawLine {
  readonly bytes: Buffer
  /** Byte offset of the line's first byte. */
  readonly offset: number
  /** Byte offset just past the line and its newline. */
  readonly end: number
  /** True for a last line that has no newline (yet). */
  readonly partial: boolean
}

export interface ReadLinesOptions {
  /** Byte offset to start at (a committed offset, always at a line start). */
  readonly start?: number
  /** Yield a final line that has no newline (one-shot ingest); else hold it back. */
  readonly includePartial?: boolean
  readonly chunkSize?: number
}

const NL = 0x0a

/**
 * Reads a file's lines from a byte offset, streaming in chunks: memory is
 * bounded by the chunk size plus the longest line. A final line without a
 * newline is held back unless `includePartial` (a watcher waits for it).
 */
export async function* readLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  const handle = await open(path, 'r')
  try {
    const chunkSize = options.chunkSize ?? 1 << 20
    let position = options.start ?? 0
    let carry: Buffer | null = null
    let carryOffset = position
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize)
      const { bytesRead } = await handle.read(buf, 0, chunkSize, position)
      if (bytesRead === 0) break
      const chunk = buf.subarray(0, bytesRead)
      let data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk
      let dataOffset = carry ? carryOffset : position
      position += bytesRead
      let from = 0
      for (;;) {
        const nl = data.indexOf(NL, from)
        if (nl === -1) break
        yield { bytes: data.subarray(from, nl), offset: dataOffset + from, end: dataOffset + nl + 1, partial: false }
        from = nl + 1
      }
      if (from < data.length) {
        carry = Buffer.from(data.subarray(from))
        carryOffset = dataOffset + from
      } else {
        carry = null
      }
      data = Buffer.alloc(0)
      dataOffset = position
    }
    if (carry && carry.length > 0 && options.includePartial) {
      yield { bytes: carry, offset: carryOffset, end: carryOffset + carry.length, partial: true }
    }
  } finally {
    await handle.close()
  }
}

/**
 * Decodes a line as UTF-8. When the bytes are not valid UTF-8 the text has
 * U+FFFD replacements and `invalid` is true, so the caller keeps the bytes.
 */
export function decodeLine(bytes: Buffer): { text: string; invalid: boolean } {
  // Fast path: pure ASCII needs no validation.
  let ascii = true
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] ?? 0) > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii) {
    return { text: bytes.toString('latin1'), invalid: false }
  }
  const text = bytes.toString('utf8')
  const invalid = text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes)
  return { text, invalid }
}
