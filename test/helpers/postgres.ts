/**
 * A real PostgreSQL for the tests: a throwaway cluster per test file
 * (src/store/postgres/cluster.ts: initdb into a temporary directory, pg_ctl
 * on a free loopback port), stopped and removed after the file.
 *
 * ### Examples
 * ```ts
 * const pg = usePostgres()
 * describe.skipIf(pg.skip)(`push (${pg.reason ?? 'PostgreSQL'})`, () => {
 *   it('...', async () => {
 *     const url = await pg.database()   // a fresh, empty database
 *   })
 * })
 * ```
 */
import { afterAll } from 'vitest'
import { clusterUnavailable, startCluster, type Cluster } from '../../src/store/postgres/cluster.js'

export interface TestPostgres {
  /** true when no cluster can run here (see {@link reason}) */
  readonly skip: boolean
  /** why the tests skip: no server binaries, or root without a postgres user */
  readonly reason: string | undefined
  /** The cluster (started on first use). */
  cluster(): Promise<Cluster>
  /** A fresh, empty database on the cluster: its URL. */
  database(): Promise<string>
}

/** Registers a cluster for this test file, started on first use and removed in afterAll. */
export function usePostgres(): TestPostgres {
  const reason = clusterUnavailable()
  let started: Promise<Cluster> | undefined
  let count = 0
  afterAll(async () => {
    if (started) (await started).stop()
  })
  const cluster = (): Promise<Cluster> => (started ??= startCluster())
  return {
    skip: reason !== undefined,
    reason: reason === undefined ? undefined : `skipped: ${reason}`,
    cluster,
    async database() {
      const c = await cluster()
      return c.createDatabase(`t${String(process.pid)}_${String(++count)}`)
    },
  }
}
