/**
 * Lines that any tool (or its loader, or the shell) may print between rows:
 * recognised here once so every format stores them as `message`, not `bad`.
 */
const MESSAGE_PATTERNS: readonly RegExp[] = [
  /^\s*$/, // blank lines (Python exitsnoop prints one at Ctrl-C; count modes print one)
  /^Lost \d+ events? on CPU #\d+!?\s*$/i,
  /^lost \d+ events? on CPU #\d+\s*$/i,
  /^Possibly lost \d+ samples?\s*$/,
  /^libbpf: /,
  /^Error: packet too small/,
  /^failed to /i,
  /^Failed to /,
  /^ERROR: /,
  /^WARNING: /i,
  /^In file included from /,
  /^\/virtual\/main\.c:/,
  /^\d+ warnings? generated\.?$/,
  /^Traceback \(most recent call last\):/,
  /^This kernel keeps task->start_time in a struct timespec\./,
  /^Retrying with --timespec/,
  /^\^C\s*$/,
  /^Terminated\s*$/,
  /^Killed\s*$/,
  /^Hit Ctrl-C to end\.?\s*$/,
  /^Tracing .*(Ctrl-C|\.\.\.)/,
  /^Detaching\.*\s*$/,
  /^Exiting\.*\s*$/,
]

/**
 * Returns a short description when `line` is a known non-row message
 * (lost events, libbpf loader output, blank line, ...), else undefined.
 */
export function commonMessage(line: string): string | undefined {
  for (const re of MESSAGE_PATTERNS) {
    if (re.test(line)) return line.trim() === '' ? 'blank line' : line.trim()
  }
  return undefined
}
