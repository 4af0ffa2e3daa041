import { isAscii } from 'node:buffer'
import { open, type FileHandle } from 'node:fs/promises'

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

/** One physical line, decoded, without its newline. */
export interface TextLine {
  /** The line as UTF-8 text (U+FFFD where the bytes are not valid UTF-8). */
  readonly text: string
  /** The exact bytes when they are not valid UTF-8, else null (`text` encodes back to them). */
  readonly invalidBytes: Buffer | null
  /** Byte offset of the line's first byte. */
  readonly offset: number
  /** Byte offset just past the line and its newline. */
  readonly end: number
  /** True for a last line that has no newline (yet). */
  readonly partial: boolean
}

/** The bytes of a line as read from the file. */
export function lineBytes(line: TextLine): Buffer {
  return line.invalidBytes ?? Buffer.from(line.text, 'utf8')
}

/** The complete lines of `region` (which ends just before a newline), starting at file offset `base`. */
function splitLines(region: Buffer, base: number): TextLine[] {
  const out: TextLine[] = []
  if (isAscii(region)) {
    // the common case: one decode and one split per chunk, no Buffer per line
    let offset = base
    for (const text of region.toString('latin1').split('\n')) {
      const end = offset + text.length + 1
      out.push({ text, invalidBytes: null, offset, end, partial: false })
      offset = end
    }
    return out
  }
  let from = 0
  for (;;) {
    const nl = region.indexOf(NL, from)
    const bytes = region.subarray(from, nl === -1 ? region.length : nl)
    const { text, invalid } = decodeLine(bytes)
    out.push({ text, invalidBytes: invalid ? Buffer.from(bytes) : null, offset: base + from, end: base + from + bytes.length + 1, partial: false })
    if (nl === -1) return out
    from = nl + 1
  }
}

/**
 * Reads a file's lines from a byte offset, decoded and a chunk at a time
 * (memory bounded by the chunk size plus the longest line): yields the
 * complete lines of each chunk read (about 14,000 lines of a 1 MiB chunk of
 * tool output) as one array. An ASCII chunk is decoded and split as one
 * string; only a chunk with other bytes is decoded line by line. This is
 * ingest's reader: a line costs no Buffer, no decode call and no await of
 * its own. A final line without a newline is held back unless
 * `includePartial` (a watcher waits for it).
 */
export async function* readLineChunks(file: string | FileHandle, options: ReadLinesOptions = {}): AsyncGenerator<TextLine[]> {
  // a handle the caller opened stays open: it is the file the caller recognised
  const handle = typeof file === 'string' ? await open(file, 'r') : file
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
      const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk
      const dataOffset = carry ? carryOffset : position
      position += bytesRead
      const last = data.lastIndexOf(NL)
      if (last === -1) {
        carry = Buffer.from(data)
        carryOffset = dataOffset
        continue
      }
      const lines = splitLines(data.subarray(0, last), dataOffset)
      carry = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : null
      carryOffset = dataOffset + last + 1
      yield lines
    }
    if (carry && carry.length > 0 && options.includePartial) {
      const { text, invalid } = decodeLine(carry)
      yield [{ text, invalidBytes: invalid ? carry : null, offset: carryOffset, end: carryOffset + carry.length, partial: true }]
    }
  } finally {
    if (typeof file === 'string') await handle.close()
  }
}

/**
 * Reads a file's lines from a byte offset as bytes, one at a time, streaming
 * in chunks: memory is bounded by the chunk size plus the longest line. A
 * final line without a newline is held back unless `includePartial` (a
 * watcher waits for it). {@link readLineChunks} is the faster, batched form.
 */
export async function* readLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  for await (const lines of readLineChunks(path, options)) {
    for (const l of lines) yield { bytes: lineBytes(l), offset: l.offset, end: l.end, partial: l.partial }
  }
}
