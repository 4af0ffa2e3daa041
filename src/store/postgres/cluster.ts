/**
 * A throwaway PostgreSQL cluster: `initdb` into a temporary directory,
 * `pg_ctl start` on a free loopback port (and a Unix socket in the same
 * directory), stopped and removed by {@link Cluster.stop}. Used by the tests
 * (test/helpers/postgres.ts) and by `npm run bench` (the `fleet` section);
 * never by the tracedb commands, which connect to a server the user runs.
 *
 * It runs the server binaries of the Debian `postgresql` package
 * (/usr/lib/postgresql/N/bin). PostgreSQL refuses to run as root, so as root
 * the server runs as the `postgres` user through `runuser`.
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

export interface Cluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  readonly port: number
  /** the bin directory of the server (initdb, pg_ctl, psql's siblings) */
  readonly bin: string
  /** A URL of the same server with another database. */
  urlOf(database: string): string
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): void
}

/** The newest `/usr/lib/postgresql/N/bin` holding initdb and pg_ctl, or undefined. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const bin = join(root, v, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  return undefined
}

/**
 * Why a throwaway cluster cannot run here, or undefined when it can: the
 * server binaries are missing, or we are root without a `postgres` user.
 */
export function clusterUnavailable(): string | undefined {
  const bin = findPostgresBin()
  if (!bin) return 'no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); install the Debian package `postgresql`'
  if (isRoot()) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
    } catch {
      return 'running as root and there is no `postgres` user to run the server as'
    }
  }
  return undefined
}

function isRoot(): boolean {
  return userInfo().uid === 0
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

/** Runs a server binary, as `postgres` when we are root. */
function runAsServerUser(bin: string, tool: string, args: readonly string[]): string {
  const path = join(bin, tool)
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]]
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const e = error as { stderr?: string; message: string }
    throw new Error(`${tool} failed: ${(e.stderr ?? '').trim() || e.message}`)
  }
}

/**
 * Starts a throwaway cluster (trust authentication, loopback only, tuned for
 * a disposable server: no fsync). Throws with the reason when it cannot.
 */
export async function startCluster(options: { fsync?: boolean } = {}): Promise<Cluster> {
  const reason = clusterUnavailable()
  if (reason) throw new Error(`cannot start a PostgreSQL cluster: ${reason}`)
  const bin = findPostgresBin() as string
  const root = mkdtempSync(join(tmpdir(), 'tracedb-pg-'))
  const data = join(root, 'data')
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(root, uid, gid)
  }
  let started = false
  const stop = (): void => {
    if (started) {
      try {
        runAsServerUser(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
      } catch {
        // already stopped: the directory goes anyway
      }
      started = false
    }
    rmSync(root, { recursive: true, force: true })
  }
  try {
    runAsServerUser(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8'])
    // a few tries: another process may take the free port between the probe and the start
    let port = 0
    for (let attempt = 0; ; attempt++) {
      port = await freePort()
      const opts = [
        `-p ${String(port)}`,
        '-c listen_addresses=127.0.0.1',
        `-k ${root}`,
        `-c fsync=${options.fsync ? 'on' : 'off'}`,
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_wal_size=4GB',
        '-c shared_buffers=256MB',
      ].join(' ')
      try {
        runAsServerUser(bin, 'pg_ctl', ['-D', data, '-o', opts, '-l', join(root, 'server.log'), '-w', 'start'])
        started = true
        break
      } catch (error) {
        if (attempt >= 2) throw error
      }
    }
    const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${String(port)}/${database}`
    return {
      url: urlOf('postgres'),
      port,
      bin,
      urlOf,
      async createDatabase(name: string): Promise<string> {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name "${name}"`)
        const { default: pg } = await import('pg')
        const client = new pg.Client({ connectionString: urlOf('postgres') })
        await client.connect()
        try {
          await client.query(`CREATE DATABASE ${name}`)
        } finally {
          await client.end()
        }
        return urlOf(name)
      },
      stop,
    }
  } catch (error) {
    stop()
    throw error
  }
}
