/** Writers of synthetic libbpf-tools lines, exactly as the tools' printf formats lay them out. */

const pad = (s: string | number, n: number) => String(s).padEnd(n)

export const EXECSNOOP_T_U_X_HEADER = 'TIME     UID    PCOMM            PID    PPID   RET ARGS'

/** libbpf `execsnoop -T -U -x` row: `%-8s %-6d%-16s %-6d %-6d %3d ARGS ` */
export function execLine(time: string, pid: number, ppid: number, comm: string, args: string, ret = 0, uid = 0): string {
  return `${pad(time, 8)} ${pad(uid, 6)}${pad(comm, 16)} ${pad(pid, 6)} ${pad(ppid, 6)} ${String(ret).padStart(3)} ${args} `
}

export const EXITSNOOP_T_HEADER = 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE'

/** libbpf `exitsnoop -t` row: `%8s %-16s %-7d %-7d %-7d %-7.2f CODE` */
export function exitLine(time: string, pid: number, ppid: number, comm: string, age: number, code = '0', tid = pid): string {
  return `${time.padStart(8)} ${pad(comm, 16)} ${pad(pid, 7)} ${pad(ppid, 7)} ${pad(tid, 7)} ${pad(age.toFixed(2), 7)} ${code}`
}
