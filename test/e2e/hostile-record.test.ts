import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { tracingUnavailable, waitForHeader } from '../helpers/tracing.js'

/**
 * The real thing: processes exec'd with escape sequences in their argv and
 * in their name (a symlink's name becomes the comm), captured by the real
 * execsnoop/exitsnoop under `tracedb record`, then queried.
 */

const why = await tracingUnavailable()
const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')
/** A directory that is not the checkout, for the traced commands to run in. */
const NEUTRAL = '/opt/demo'

// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const LIVE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

const TITLE_CLEAR = '\x1b]0;pwned\x07\x1b[2J'
const LINK = '\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\'
const C1_BIDI = '\u009b31m\u202etxt.exe'
const RED = '\x1b[31mred'
/** Program names (symlinks to /bin/true), so the comm itself is hostile: at most 15 bytes. */
const EVIL_NAME = 'ev\x1b[31mil'
const FORMULA_NAME = '@SUM(1+1)'

/** Runs a program from the neutral directory and waits for it. */
function run(file: string, args: string[], cwd: string): Promise<unknown> {
  return new Promise((ok) => spawn(file, args, { cwd, stdio: 'ignore' }).once('exit', ok))
}

/** The hostile workload: a shell, env+printf, and two programs with hostile names. */
async function workload(cwd: string): Promise<void> {
  await run('/bin/sh', ['-c', 'true', TITLE_CLEAR, C1_BIDI, LINK], cwd)
  await run('/usr/bin/env', ['printf', '', RED], cwd)
  for (const name of [EVIL_NAME, FORMULA_NAME]) {
    symlinkSync('/bin/true', join(cwd, name))
    await run(join(cwd, name), ['arg'], cwd)
  }
}

describe('hostile argv, traced for real', () => {
  test('record a process whose argv and name hold escape sequences; tables escape them, --json keeps them, --csv has no formula', async (ctx) => {
    if (why !== undefined) ctx.skip(`real tracing unavailable: ${why}`)
    if (!existsSync(CLI)) ctx.skip(`${CLI} is not built (npx tsc -p tsconfig.json)`)
    const root = mkdtempSync(join(tmpdir(), 'tracedb-hostile-rec-'))
    const dir = join(root, 'logs')
    const db = join(root, 'h.db')
    mkdirSync(NEUTRAL, { recursive: true })
    const cwd = mkdtempSync(join(NEUTRAL, 'hostile-'))
    try {
      const recorder = spawn(process.execPath, [CLI, 'record', dir, '--duration', '3s', '--tools', 'execsnoop,exitsnoop'], {
        cwd: NEUTRAL,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      recorder.stdout.on('data', (b: Buffer) => (out += b.toString()))
      recorder.stderr.on('data', (b: Buffer) => (out += b.toString()))
      const recorded = new Promise<number | null>((ok) => recorder.once('exit', ok))
      // the tools print their header once attached: from then on every exec is seen
      await waitForHeader(join(dir, 'execsnoop.log'), 20_000)
      await waitForHeader(join(dir, 'exitsnoop.log'), 20_000)
      await workload(cwd)
      expect(await recorded, out).toBe(0)
      expect(out).not.toMatch(LIVE)

      const ingested = await runCli('ingest', dir, '--db', db)
      expect(ingested.code, ingested.stderr).toBe(0)
      expect(ingested.stdout + ingested.stderr).not.toMatch(LIVE)

      // exact: what the processes were given, as execsnoop printed it
      const json = await runCli('query', 'processes', '--db', db, '--json')
      const rows = JSON.parse(json.stdout) as { pid: number; ppid: number | null; comm: string | null; args: string | null }[]
      const sh = rows.find((r) => r.args === `/bin/sh -c true ${TITLE_CLEAR} ${C1_BIDI} ${LINK}`)
      expect(sh, JSON.stringify(rows.filter((r) => r.comm === 'sh'))).toBeDefined()
      expect(rows.some((r) => r.comm === 'printf' && r.args?.endsWith(RED))).toBe(true)
      expect(rows.some((r) => r.comm === EVIL_NAME)).toBe(true)
      expect(rows.some((r) => r.comm === FORMULA_NAME)).toBe(true)
      // the workload's parent is this test's process: the root of its tree
      const parent = String(sh!.ppid)

      for (const args of [['query', 'tree', parent], ['query', 'processes'], ['query', 'summary', parent], ['query', 'timeline', parent]]) {
        const r = await runCli(...args, '--db', db)
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(LIVE)
      }
      const tree = (await runCli('query', 'tree', parent, '--db', db)).stdout
      expect(tree).toContain('sh  /bin/sh -c true \\x1b]0;pwned\\x07\\x1b[2J \\x9b31m\\u202etxt.exe \\x1b]8;;http://evil.example/')
      expect(tree).toContain('\\x1b[31mred')
      expect(tree).toContain(' ev\\x1b[31mil ')

      const csv = (await runCli('query', 'processes', '--db', db, '--csv')).stdout
      expect(csv).toContain(`,'${FORMULA_NAME},`)
      expect(csv).not.toMatch(/(^|,)"?[=+\-@]/m)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 90_000)
})
