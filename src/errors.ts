/**
 * Known errors: the CLI prints them as one clear message (what, why, where,
 * what to try) with no stack trace, and exits with the class's code.
 * Anything else is a bug and is re-thrown.
 */
export class TracedbError extends Error {
  /** Process exit code for the CLI: 1 = input rejected, 2 = usage/config/IO. */
  readonly exitCode: number
  /** What the user can try. */
  readonly hint: string | undefined

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.exitCode = options.exitCode ?? 2
    this.hint = options.hint
  }
}

/** Bad flags or arguments. */
export class UsageError extends TracedbError {}

/** Input that could not be used at all (no known log format, no such file). */
export class InputError extends TracedbError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 1 })
  }
}

/** The database cannot be opened or migrated. */
export class DatabaseError extends TracedbError {}

/** A named query is missing, malformed or failed. */
export class QueryError extends TracedbError {}
