#!/usr/bin/env bash
# capture.sh - record a real capture for tracedb: execsnoop, exitsnoop,
# tcpstates and tcplife (libbpf-tools) around a workload.
#
# Needs root, libbpf-tools (apt-get install libbpf-tools) and, for the default
# workload, openssh-server + openssh-client. Traffic goes to 127.0.0.1 only.
#
# Usage: sudo examples/capture.sh OUTDIR [WORKLOAD...]
#   default WORKLOAD: examples/login-workload.sh OUTDIR (three ssh logins)
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

PIDS=()
start() { # name flags...
  local name=$1; shift
  stdbuf -oL "/usr/sbin/$name" "$@" > "$OUT/$name.log" 2>&1 &
  PIDS+=($!)
}
start execsnoop -T -U -x
start exitsnoop -t
start tcpstates -T
start tcplife -T
sleep 1.5   # let every tool attach and print its header

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if (( $# > 0 )); then "$@"; else "$HERE/login-workload.sh" "$OUT"; fi
sleep 1.5   # let the last exits and TCP closes be printed

kill -INT "${PIDS[@]}"
wait "${PIDS[@]}" 2>/dev/null || true

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
    "tcplife": "stdbuf -oL /usr/sbin/tcplife -T"
  }
}
JSON
echo "capture in $OUT:"; wc -l "$OUT"/*.log
