import type BetterSqlite3 from 'better-sqlite3'

/**
 * Derives process instances from execsnoop and exitsnoop records.
 *
 * A PID is not an identity: an instance is one PID over one time span. Each
 * exitsnoop row (of a whole process) is an instance whose start is its exit
 * time minus AGE; each execsnoop row joins the instance of its PID alive at
 * that time, or starts an exec-only instance (the process outlived the
 * capture, or its exit was not captured). A process seen only in exitsnoop
 * forked without exec and is a full node. Parents resolve to the instance of
 * the PPID alive when the child started; a PPID never seen gets one inferred
 * placeholder. The result is rebuilt from scratch per capture, so it does not
 * depend on the order files were ingested in.
 */

/** Slack, in µs, for second-precision print-time clocks on both sides. */
const TOLERANCE = 2_000_000

// Times are handled in µs as plain numbers (exact below 2^53, ~285 years),
// and written back as integer ns.
interface ExecRow {
  line_id: number
  source_id: number
  process_id: number | null
  pid: number
  ppid: number | null
  comm: string | null
  ret: number | null
  args: string | null
  filename: string | null
  ts: number | null
  time_text: string | null
}

interface ExitRow {
  line_id: number
  source_id: number
  process_id: number | null
  pid: number
  ppid: number | null
  tid: number | null
  comm: string | null
  age_s: number | null
  exit_code: number | null
  signal: number | null
  core_dumped: number | null
  ts: number | null
  time_text: string | null
}

interface Instance {
  pid: number
  ppid: number | null
  ppidSource: 'exec' | 'exit' | null
  start: number | null
  startSource: 'exit_age' | 'exec' | null
  execs: ExecRow[]
  exit: ExitRow | null
  inferred: boolean
  parent: Instance | null
  order: number
  id: number
}

function tableExists(sqlite: BetterSqlite3.Database, name: string): boolean {
  return sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
}

const ns = (us: number | null): bigint | null => (us === null ? null : BigInt(us) * 1000n)

/** Rebuilds the `process` rows of one capture; returns how many instances. */
export function deriveProcesses(sqlite: BetterSqlite3.Database, captureId: number): number {
  // Rows in time order; ties and rows without times in file order (source
  // path, then line: line ids grow with line numbers within a source).
  const rank = new Map<number, number>()
  ;(sqlite.prepare('SELECT id FROM source WHERE capture_id = ? ORDER BY path, id').pluck().all(captureId) as number[]).forEach(
    (id, i) => rank.set(id, i),
  )
  const byTime = (a: { ts: number | null; source_id: number; line_id: number }, b: typeof a): number => {
    if (a.ts !== b.ts) {
      if (a.ts === null) return 1
      if (b.ts === null) return -1
      return a.ts - b.ts
    }
    const ra = rank.get(a.source_id) ?? 0
    const rb = rank.get(b.source_id) ?? 0
    return ra !== rb ? ra - rb : a.line_id - b.line_id
  }
  const execs = tableExists(sqlite, 'execsnoop_event')
    ? (sqlite
        .prepare(
          `SELECT line_id, source_id, process_id, pid, ppid, comm, ret, args, filename, ts / 1000 AS ts, time_text
           FROM execsnoop_event WHERE capture_id = ? AND pid IS NOT NULL`,
        )
        .all(captureId) as ExecRow[])
    : []
  const exits = tableExists(sqlite, 'exitsnoop_event')
    ? (sqlite
        .prepare(
          `SELECT line_id, source_id, process_id, pid, ppid, tid, comm, age_s, exit_code, signal, core_dumped,
                  ts / 1000 AS ts, time_text
           FROM exitsnoop_event WHERE capture_id = ? AND pid IS NOT NULL AND (tid IS NULL OR tid = pid)`,
        )
        .all(captureId) as ExitRow[])
    : []
  execs.sort(byTime)
  exits.sort(byTime)

  const byPid = new Map<number, Instance[]>()
  const add = (inst: Instance): void => {
    const list = byPid.get(inst.pid)
    if (list) list.push(inst)
    else byPid.set(inst.pid, [inst])
  }
  let order = 0
  const blank = (pid: number): Instance => ({
    pid,
    ppid: null,
    ppidSource: null,
    start: null,
    startSource: null,
    execs: [],
    exit: null,
    inferred: false,
    parent: null,
    order: order++,
    id: 0,
  })

  // 1. One instance per process exit.
  for (const x of exits) {
    const inst = blank(x.pid)
    inst.exit = x
    if (x.ts !== null && x.age_s !== null) {
      inst.start = x.ts - Math.round(x.age_s * 1e6)
      inst.startSource = 'exit_age'
    }
    add(inst)
  }

  // 2. Each exec joins the instance of its PID alive at that time.
  const openByPid = new Map<number, Instance>()
  for (const e of execs) {
    const candidates = byPid.get(e.pid) ?? []
    let target: Instance | undefined
    if (e.ts !== null) {
      let best: { inst: Instance; score: number } | undefined
      for (const inst of candidates) {
        const x = inst.exit
        if (!x || x.ts === null) continue
        const lo = (inst.start ?? x.ts) - TOLERANCE
        const hi = x.ts + TOLERANCE
        if (e.ts < lo || e.ts > hi) continue
        // prefer the instance whose span (start..exit) holds the exec most snugly
        const s = inst.start ?? x.ts
        const score = (e.ts < s ? s - e.ts : 0) + (e.ts > x.ts ? e.ts - x.ts : 0)
        if (!best || score < best.score || (score === best.score && x.ts < (best.inst.exit?.ts ?? 0))) {
          best = { inst, score }
        }
      }
      target = best?.inst
      if (!target) {
        // no exit covers it: continue the open exec-only instance, unless an
        // exit of this PID came in between (then it is a reused PID)
        const open = openByPid.get(e.pid)
        const lastExec = open?.execs.at(-1)?.ts ?? null
        const exitBetween = candidates.some(
          (c) => c.exit?.ts != null && lastExec !== null && c.exit.ts > lastExec && c.exit.ts < e.ts! - TOLERANCE,
        )
        target = open && !exitBetween ? open : undefined
      }
    } else {
      // no time: the first exit of this PID without execs, else the open instance
      target = candidates.find((c) => c.exit !== null && c.execs.length === 0) ?? openByPid.get(e.pid)
    }
    if (!target) {
      target = blank(e.pid)
      target.start = e.ts
      target.startSource = e.ts === null ? null : 'exec'
      add(target)
      openByPid.set(e.pid, target)
    }
    target.execs.push(e)
  }

  // 3. PPID: the earliest seen (exec before exit; exit may show a reparenting).
  for (const list of byPid.values()) {
    for (const inst of list) {
      const fromExec = inst.execs.find((e) => e.ppid !== null && e.ppid !== 0)
      if (fromExec) {
        inst.ppid = fromExec.ppid
        inst.ppidSource = 'exec'
      } else if (inst.exit?.ppid != null && inst.exit.ppid !== 0) {
        inst.ppid = inst.exit.ppid
        inst.ppidSource = 'exit'
      }
    }
  }

  // 4. Parent instance: the PPID's instance alive when the child started.
  const inferred = new Map<number, Instance>()
  const all = [...byPid.values()].flat()
  for (const child of all) {
    if (child.ppid === null || child.ppid === child.pid) continue
    const candidates = byPid.get(child.ppid) ?? []
    let best: Instance | undefined
    for (const p of candidates) {
      if (child.start !== null) {
        const pStart = p.start
        const pEnd = p.exit?.ts ?? null
        if (pStart !== null && pStart - TOLERANCE > child.start) continue
        if (pEnd !== null && pEnd + TOLERANCE < child.start) continue
        if (!best || (pStart ?? -1) > (best.start ?? -1)) best = p
      } else if (!best) {
        best = p
      }
    }
    if (!best) {
      best = inferred.get(child.ppid)
      if (!best) {
        best = blank(child.ppid)
        best.inferred = true
        inferred.set(child.ppid, best)
      }
    }
    child.parent = best
  }
  const everything = [...all, ...inferred.values()]

  // 5. Break any cycle (impossible in a consistent capture, but the input is
  // not always consistent): the tree queries rely on a forest.
  for (const inst of everything) {
    const seen = new Set<Instance>([inst])
    let p = inst.parent
    while (p) {
      if (seen.has(p)) {
        inst.parent = null
        break
      }
      seen.add(p)
      p = p.parent
    }
  }

  // 6. Deterministic ids: by start time, then PID, then first evidence.
  everything.sort((a, b) => {
    const as = a.start ?? a.exit?.ts ?? null
    const bs = b.start ?? b.exit?.ts ?? null
    if (as !== bs) {
      if (as === null) return 1
      if (bs === null) return -1
      return as - bs
    }
    if (a.pid !== b.pid) return a.pid - b.pid
    return a.order - b.order
  })

  const write = sqlite.transaction(() => {
    sqlite.prepare('DELETE FROM process WHERE capture_id = ?').run(captureId)
    const base = Number(sqlite.prepare('SELECT coalesce(max(id), 0) FROM process').pluck().get())
    everything.forEach((inst, i) => (inst.id = base + i + 1))
    const insert = sqlite.prepare(
      `INSERT INTO process (id, capture_id, pid, ppid, ppid_source, parent_id, comm, filename, args, exec_count,
         failed_exec_count, start_ts, start_source, exec_ts, exec_time_text, exit_ts, exit_time_text, lifetime_s,
         exit_code, signal, core_dumped, seen_exec, seen_exit, inferred, fork_only)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const linkExec = sqlite.prepare('UPDATE execsnoop_event SET process_id = ? WHERE line_id = ?')
    const linkExit = sqlite.prepare('UPDATE exitsnoop_event SET process_id = ? WHERE line_id = ?')
    for (const inst of everything) {
      const ok = inst.execs.filter((e) => e.ret === null || e.ret === 0)
      const lastOk = ok.at(-1)
      const firstExec = inst.execs[0]
      const x = inst.exit
      const comm = lastOk?.comm ?? x?.comm ?? firstExec?.comm ?? null
      insert.run(
        inst.id,
        captureId,
        inst.pid,
        inst.ppid,
        inst.ppidSource,
        inst.parent?.id ?? null,
        comm,
        lastOk?.filename ?? null,
        lastOk?.args ?? null,
        ok.length,
        inst.execs.length - ok.length,
        ns(inst.start),
        inst.startSource,
        ns(ok[0]?.ts ?? null),
        ok[0]?.time_text ?? null,
        ns(x?.ts ?? null),
        x?.time_text ?? null,
        x?.age_s ?? null,
        x?.exit_code ?? null,
        x?.signal ?? null,
        x?.core_dumped ?? null,
        ok.length > 0 ? 1 : 0,
        x ? 1 : 0,
        inst.inferred ? 1 : 0,
        x && inst.execs.length === 0 ? 1 : 0,
      )
      // every exec and (process) exit row belongs to exactly one instance;
      // only rows whose instance changed are written
      for (const e of inst.execs) if (e.process_id !== inst.id) linkExec.run(inst.id, e.line_id)
      if (x && x.process_id !== inst.id) linkExit.run(inst.id, x.line_id)
    }
  })
  write()
  return everything.length
}
