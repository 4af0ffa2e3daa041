/**
 * Text from logs is hostile: any local user can exec a process whose argv
 * holds escape sequences, execsnoop prints them verbatim, and printing them
 * unchanged lets that user move the investigator's cursor, retitle or clear
 * their terminal, or plant OSC 8 links. Everything tracedb prints for people
 * goes through `escapeControls` (or `escapeLines`); `--json` does not (it is
 * exact), and `--csv` only neutralises formulas (`neutraliseFormula`).
 *
 * The escapes, chosen so that the output can be read back without doubt:
 *
 * | shown      | for |
 * |---|---|
 * | `\\`       | a backslash (always doubled, so `\x1b` in the output is never the four characters `\x1b` of the input) |
 * | `\n` `\t` `\r` | newline, tab, carriage return |
 * | `\xNN`     | any other C0 control (U+0000–U+001F), DEL (U+007F), a C1 control (U+0080–U+009F) |
 * | `\uNNNN`   | a bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), which reorders what follows it on the line |
 */

/** Backslash, C0, DEL, C1 and the bidi embeddings/overrides/isolates. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\\\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g

const SHORT: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' }

/** The visible escape of one unsafe character (see the table above). */
function escapeChar(c: string): string {
  const short = SHORT[c]
  if (short !== undefined) return short
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * `s` with every control character, bidi override and backslash shown as a
 * visible escape: safe to print on a terminal, one line, unambiguous.
 *
 * ### Examples
 * ```ts
 * escapeControls('\x1b]0;pwned\x07')  // '\\x1b]0;pwned\\x07'
 * escapeControls('a\tb\\c')           // 'a\\tb\\\\c'
 * ```
 */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, escapeChar)
}

/**
 * Multi-line text tracedb composed itself (a report, an error with its
 * stack): each line escaped, the newlines between them kept.
 */
export function escapeLines(text: string): string {
  return text.split('\n').map(escapeControls).join('\n')
}

/**
 * `s` escaped and cut to at most `max` characters, ending with `…` when
 * cut. The cut never splits an escape (a half `\x1` would read as something
 * else) nor a surrogate pair.
 */
export function escapeAndClip(s: string, max: number): string {
  const escaped = escapeControls(s)
  if (escaped.length <= max) return escaped
  let out = ''
  for (const c of s) {
    const piece = escapeControls(c)
    if (out.length + piece.length > max - 1) break
    out += piece
  }
  return `${out}…`
}

/** A number as a spreadsheet would read it: `-5`, `+0.25`, `1e-3`, `-.5`. */
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * A CSV cell that a spreadsheet could take for a formula (it starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's CSV injection
 * list) gets a leading `'`, which spreadsheets show as text and do not
 * evaluate. Plain numbers (`-1`, `+0.5`) are left as they are: they are not
 * formulas, and quoting them would turn numbers into text.
 *
 * ### Examples
 * ```ts
 * neutraliseFormula('=HYPERLINK("http://x")')  // "'=HYPERLINK(\"http://x\")"
 * neutraliseFormula('-1')                       // '-1'
 * ```
 */
export function neutraliseFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s
}
