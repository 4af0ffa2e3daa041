/**
 * The tools pad columns with printf, which counts bytes: a COMM of
 * multi-byte UTF-8 characters is narrower on screen (and in a JavaScript
 * string) than its column. `widen` adds U+0000 fillers after each multi-byte
 * character so fixed-width patterns line up again; `clean` removes them from
 * a captured field. U+FFFD stands for one undecodable byte and is not widened.
 */
export function widen(line: string): string {
  if (!/[\u0080-\uffff]/.test(line)) return line
  let out = ''
  for (const ch of line) {
    const cp = ch.codePointAt(0) ?? 0
    const extra = cp < 0x80 || cp === 0xfffd ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3
    out += extra === 0 ? ch : ch + '\0'.repeat(extra)
  }
  return out
}

/** A field captured from a widened line, without its fillers. */
export const clean = (s: string | undefined): string => (s ?? '').replaceAll('\0', '')
