/**
 * The synthetic capture of test/queries/tools.test.ts (its comment draws the
 * process tree): every per-tool query has rows in it. Shared with the test
 * that runs every named query on SQLite and PostgreSQL.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './logs.js'

const pad = (s: string | number, n: number) => String(s).padEnd(n)

export const EXECS = [
  execLine('10:00:01', 3000, 2999, 'bash', '/bin/bash /work/build.sh'),
  execLine('10:00:02', 3001, 3000, 'dd', '/bin/dd if=/dev/zero of=/tmp/x bs=1M count=2'),
  execLine('10:00:03', 3002, 3000, 'cc', '/usr/bin/cc -c main.c'),
  execLine('10:00:04', 3003, 3002, 'as', '/usr/bin/as -o main.o /tmp/ccA1.s'),
  execLine('10:00:05', 3005, 3000, 'tar', '/bin/tar xf src.tar'),
  execLine('10:00:12', 6000, 1, 'backup', '/usr/bin/backup'),
  execLine('10:00:25', 4000, 1, 'cron', '/usr/sbin/cron -f'),
  execLine('10:00:30', 3005, 4000, 'job', '/usr/local/bin/job --nightly'),
  execLine('10:00:40', 5000, 1, 'idle', '/usr/bin/idle'),
]

export const EXITS = [
  exitLine('10:00:06', 3001, 3000, 'dd', 4),
  exitLine('10:00:08', 3003, 3002, 'as', 4),
  exitLine('10:00:09', 3005, 3000, 'tar', 4),
  exitLine('10:00:20', 3002, 3000, 'cc', 17),
]

/** libbpf `biosnoop -t`: `%-8s.%03ld ` then `%-14.14s %-7d %-7s %-4s %-10lld %-7d ` then `%7.3f`. */
export const BIOSNOOP_HEADER = 'TIMESTAMP    COMM           PID     DISK    T    SECTOR     BYTES   LAT(ms)'
function bioLine(time: string, comm: string, pid: number, disk: string, rwbs: string, sector: number, bytes: number, lat: number): string {
  return `${time} ${pad(comm, 14)} ${pad(pid, 7)} ${pad(disk, 7)} ${pad(rwbs, 4)} ${pad(sector, 10)} ${pad(bytes, 7)} ${lat.toFixed(3).padStart(7)}`
}
export const BIOS = [
  bioLine('10:00:03.100', 'dd', 3001, 'vda', 'W', 2048, 1048576, 2),
  bioLine('10:00:04.200', 'dd', 3001, 'vda', 'W', 4096, 1048576, 3),
  bioLine('10:00:05.300', 'dd', 3001, 'vdb', 'FWS', 8192, 4096, 1),
  bioLine('10:00:06.000', 'as', 3003, 'vda', 'R', 100, 8192, 0.5),
  bioLine('10:00:07.400', 'as', 3003, 'vda', 'RA', 116, 16384, 1.5),
  bioLine('10:00:07.500', 'tar', 3005, 'vda', 'R', 200, 4096, 0.25),
  bioLine('10:00:13.000', 'backup', 6000, 'vda', 'W', 500, 4096, 1),
  bioLine('10:00:14.000', 'kworker/0:1', 0, 'vda', 'W', 600, 4096, 1),
  bioLine('10:00:35.000', 'job', 3005, 'vda', 'W', 300, 65536, 5),
]

/** libbpf filelife: `%-8s %-6d %-16s %-7.2f %s`. */
export const FILELIFE_HEADER = 'TIME     PID    COMM             AGE(s)  FILE'
const fileLine = (time: string, pid: number, comm: string, age: number, file: string) =>
  `${time} ${pad(pid, 6)} ${pad(comm, 16)} ${pad(age.toFixed(2), 7)} ${file}`
export const FILES = [
  fileLine('10:00:05', 3002, 'cc', 0.25, 'ccB2.o.d'),
  fileLine('10:00:07', 3003, 'as', 1.5, 'ccA1 copy.s'),
  fileLine('10:00:08', 3005, 'tar', 0.01, '.tar.lock'),
  fileLine('10:00:13', 6000, 'backup', 3, 'backup.tmp'),
  fileLine('10:00:36', 3005, 'job', 0.75, 'job.tmp'),
]

/** libbpf `drsnoop -e`: `%-8s %-16s %-6d %8.3f %5lld %8lu`; the id is a TID. */
export const DRSNOOP_HEADER = 'TIME     COMM             TID     LAT(ms) PAGES FREE(KB)'
const drLine = (time: string, comm: string, tid: number, lat: number, pages: number, free: number) =>
  `${time} ${pad(comm, 16)} ${pad(tid, 6)} ${lat.toFixed(3).padStart(8)} ${String(pages).padStart(5)} ${String(free).padStart(8)}`
export const RECLAIMS = [
  drLine('10:00:04', 'cc', 3002, 12.5, 40, 1000),
  drLine('10:00:07', 'tar', 3005, 3.25, 10, 900),
  drLine('10:00:13', 'backup', 6000, 1, 5, 700),
  drLine('10:00:33', 'job', 3005, 7.75, 20, 800),
]

/** libbpf `opensnoop -T`: `%-8s %-6d %-16s %3d %3d %s`. */
export const OPENSNOOP_HEADER = 'TIME     PID    COMM              FD ERR PATH'
const openLine = (time: string, pid: number, comm: string, fd: number, err: number, path: string) =>
  `${time} ${pad(pid, 6)} ${pad(comm, 16)} ${String(fd).padStart(3)} ${String(err).padStart(3)} ${path}`
export const OPENS = [
  openLine('10:00:01', 3000, 'bash', 3, 0, '/work/build.sh'),
  openLine('10:00:02', 3001, 'dd', 3, 0, '/dev/zero'),
  openLine('10:00:02', 3001, 'dd', 4, 0, '/tmp/x'),
  openLine('10:00:03', 3002, 'cc', 3, 0, 'main.c'),
  openLine('10:00:04', 3003, 'as', -1, 2, '/usr/lib/locale/locale-archive'),
  openLine('10:00:05', 3002, 'cc', -1, 2, '/usr/lib/locale/locale-archive'),
  openLine('10:00:06', 3005, 'tar', 3, 0, '/etc/ld.so.cache'),
  openLine('10:00:07', 3003, 'as', 3, 0, '/usr/lib/locale/locale-archive'),
  openLine('10:00:10', 3002, 'cc', 3, 0, '/etc/ld.so.cache'),
  openLine('10:00:13', 6000, 'backup', 3, 0, '/etc/ld.so.cache'),
  openLine('10:00:31', 3005, 'job', 3, 0, '/etc/ld.so.cache'),
  openLine('10:00:32', 3005, 'job', -1, 13, '/etc/shadow'),
]

/** libbpf killsnoop: `%-8s %-7d %-16s %-9d %-7d %-6d`. */
export const KILLSNOOP_HEADER = 'TIME     PID     COMM             SIG       TPID    RESULT'
const killLine = (time: string, pid: number, comm: string, sig: number, tpid: number, result: number) =>
  `${time} ${pad(pid, 7)} ${pad(comm, 16)} ${pad(sig, 9)} ${pad(tpid, 7)} ${pad(result, 6)}`
export const KILLS = [
  killLine('10:00:07', 3002, 'cc', 15, 3003, 0), // within the tree
  killLine('10:00:08', 7000, 'watchdog', 15, 3005, 0), // to instance A (alive 05..09)
  killLine('10:00:10', 3000, 'bash', 9, 6000, 0), // sent by the root
  killLine('10:00:11', 7000, 'watchdog', 1, 3000, 0), // to the root
  killLine('10:00:15', 7000, 'watchdog', 9, 3001, -3), // to 3001 long after it exited: nobody's
  killLine('10:00:16', 3000, 'bash', 0, -3000, 0), // to a process group: sent, target not resolved
  killLine('10:00:17', 7000, 'watchdog', 15, 6000, 0), // unrelated
  killLine('10:00:33', 7000, 'watchdog', 10, 3005, 0), // to instance B (tree of 4000)
  killLine('10:00:34', 3005, 'job', 0, 4000, 0), // B to its parent: within the tree of 4000
]

/** Python shmsnoop (without -T): `%-6d %-16s %6s %16lx ` then ARGs. No time at all. */
export const SHMSNOOP_HEADER = 'PID    COMM                SYS              RET ARGs'
const shmLine = (pid: number, comm: string, sys: string, ret: string, args: string) =>
  `${pad(pid, 6)} ${pad(comm, 16)} ${sys.padStart(6)} ${ret.padStart(16)} ${args}`
export const SHMS = [
  shmLine(3002, 'cc', 'SHMGET', '10000', 'key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)'),
  shmLine(3003, 'as', 'SHMAT', '7f1cf8b1f000', 'shmid: 0x10000, shmaddr: 0x0, shmflg: 0x0'),
  shmLine(3005, 'tar', 'SHMDT', '0', 'shmaddr: 0x7f1cf8b1f000'),
  shmLine(3002, 'cc', 'SHMCTL', '0', 'shmid: 0x10000, cmd: 0 (IPC_RMID), buf: 0x0'),
  shmLine(6000, 'backup', 'SHMGET', 'fffffffffffffffe', 'key: 0x1, size: 4096, shmflg: 0x0'),
  shmLine(4000, 'cron', 'SHMGET', '20001', 'key: 0x2, size: 4096, shmflg: 0x3b6 (IPC_CREAT|0666)'),
]

/** Python sofdsnoop: `%-6s %-6d %-16s %-25s %-5d %s`. No time, thread IDs only. */
export const SOFDSNOOP_HEADER = 'ACTION TID    COMM             SOCKET                    FD    NAME'
const fdLine = (action: string, tid: number, comm: string, socket: string, fd: number, name: string) =>
  `${pad(action, 6)} ${pad(tid, 6)} ${pad(comm, 16)} ${pad(socket, 25)} ${pad(fd, 5)} ${name}`.trimEnd()
export const FDS = [
  fdLine('SEND', 3002, 'cc', '24:socket:[39763]', 5, '/tmp/ccA1 copy.s'),
  fdLine('RECV', 3003, 'as', '7:socket:[39764]', 5, ''),
  fdLine('SEND', 3005, 'tar', '9:socket:[40000]', 6, '/work/src.tar'),
  fdLine('SEND', 6000, 'backup', '4:socket:[50000]', 3, 'N/A'),
  fdLine('RECV', 4000, 'cron', '3:socket:[5555]', 9, ''),
]


/** Writes the capture's logs into `dir` (an existing directory); ingest with date 2026-11-28, tz UTC. */
export function writeToolLogs(dir: string): void {
  const write = (name: string, header: string, rows: readonly string[]) => writeFileSync(join(dir, name), [header, ...rows].join('\n') + '\n')
  write('execsnoop.log', EXECSNOOP_T_U_X_HEADER, EXECS)
  write('exitsnoop.log', EXITSNOOP_T_HEADER, EXITS)
  write('biosnoop.log', BIOSNOOP_HEADER, BIOS)
  write('filelife.log', FILELIFE_HEADER, FILES)
  write('drsnoop.log', DRSNOOP_HEADER, RECLAIMS)
  write('opensnoop.log', OPENSNOOP_HEADER, OPENS)
  write('killsnoop.log', KILLSNOOP_HEADER, KILLS)
  write('shmsnoop.log', SHMSNOOP_HEADER, SHMS)
  write('sofdsnoop.log', SOFDSNOOP_HEADER, FDS)
}
