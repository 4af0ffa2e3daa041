#!/usr/bin/env bash
# capture.sh - record a real capture for tracedb: execsnoop, exitsnoop,
# tcpstates, tcplife and opensnoop (libbpf-tools) around a workload.
#
# What it does: mounts tracefs if needed; starts, line-buffered and with
# stderr merged into each log,
#     execsnoop -T -U -x    > OUTDIR/execsnoop.log
#     exitsnoop -t          > OUTDIR/exitsnoop.log
#     tcpstates -T          > OUTDIR/tcpstates.log
#     tcplife -T            > OUTDIR/tcplife.log
#     opensnoop -T -n NAME  > OUTDIR/opensnoop.log
# waits until every tool has printed its header (at least 1 s), runs the
# workload, waits 1.5 s, stops the tools with SIGINT (by PID) and waits for
# them, then writes OUTDIR/capture.json (start time and zone, which anchor the
# tools' dateless HH:MM:SS clocks).
#
# opensnoop sees every open on the machine, so it is filtered with -n (a
# substring of the process name): OPENSNOOP_NAME, default "ssh" (sshd and
# ssh). OPENSNOOP=0 leaves it out.
#
# Needs root, libbpf-tools (apt-get install libbpf-tools) and, for the default
# workload, openssh-server + openssh-client. Traffic goes to 127.0.0.1 only.
#
# Usage: sudo examples/capture.sh OUTDIR [WORKLOAD...]
#   default WORKLOAD: examples/login-workload.sh OUTDIR (three ssh logins)
#   e.g.   sudo examples/capture.sh /tmp/tree examples/tree-workload.sh /tmp/tree
#
# The tools run line-buffered (stdbuf -oL: libbpf-tools block-buffer when
# redirected) and are stopped with SIGINT, which flushes their output; SIGTERM
# would lose everything still buffered.
set -euo pipefail
OUT=${1:?usage: capture.sh OUTDIR [WORKLOAD...]}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
[[ $(id -u) == 0 ]] || { echo "capture.sh: needs root (BPF)" >&2; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

OPENSNOOP=${OPENSNOOP:-1}
OPENSNOOP_NAME=${OPENSNOOP_NAME:-ssh}
PIDS=() NAMES=()
start() { # name flags...
  local name=$1; shift
  [[ -x /usr/sbin/$name ]] || { echo "capture.sh: /usr/sbin/$name missing (libbpf-tools)" >&2; exit 1; }
  stdbuf -oL -eL "/usr/sbin/$name" "$@" > "$OUT/$name.log" 2>&1 &
  PIDS+=($!) NAMES+=("$name")
}
stop_tools() {
  (( ${#PIDS[@]} )) || return 0
  kill -INT "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
}
trap stop_tools EXIT
start execsnoop -T -U -x
start exitsnoop -t
start tcpstates -T
start tcplife -T
if [[ $OPENSNOOP != 0 ]]; then start opensnoop -T -n "$OPENSNOOP_NAME"; fi

# Let every tool attach and print its header: at least 1 s, at most ~15 s
# (loading the BPF programs can take a while on a busy machine).
sleep 1
for ((i = 0; i < 140; i++)); do
  missing=()
  for j in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$j]}" 2>/dev/null; then
      echo "capture.sh: ${NAMES[$j]} exited early:" >&2; cat "$OUT/${NAMES[$j]}.log" >&2; exit 1
    fi
    [[ -s $OUT/${NAMES[$j]}.log ]] || missing+=("${NAMES[$j]}")
  done
  (( ${#missing[@]} )) || break
  sleep 0.1
done
(( ${#missing[@]} == 0 )) || echo "capture.sh: warning: no header yet from ${missing[*]}" >&2

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rc=0
if (( $# > 0 )); then "$@" || rc=$?; else "$HERE/login-workload.sh" "$OUT" || rc=$?; fi
sleep 1.5   # let the last exits and TCP closes be printed

stop_tools

# capture.json: what tracedb needs to anchor the tools' dateless clocks.
TZNAME=$(readlink /etc/localtime 2>/dev/null | sed 's|.*/zoneinfo/||'); TZNAME=${TZNAME:-UTC}
cat > "$OUT/capture.json" <<JSON
{
  "start_utc": "$STARTED",
  "end_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "tz": "$TZNAME",
  "hostname": "$(hostname)",
  "kernel": "$(uname -r)",
  "pid_max": $(cat /proc/sys/kernel/pid_max),
  "tools": {
    "execsnoop": "stdbuf -oL /usr/sbin/execsnoop -T -U -x",
    "exitsnoop": "stdbuf -oL /usr/sbin/exitsnoop -t",
    "tcpstates": "stdbuf -oL /usr/sbin/tcpstates -T",
    "tcplife": "stdbuf -oL /usr/sbin/tcplife -T"$( [[ $OPENSNOOP != 0 ]] && printf ',\n    "opensnoop": "stdbuf -oL /usr/sbin/opensnoop -T -n %s"' "$OPENSNOOP_NAME" || true)
  }
}
JSON
echo "capture in $OUT:"; wc -l "$OUT"/*.log
exit "$rc"
