#!/usr/bin/env bash
# motd-capture.sh - record the capture behind "ssh login takes 1-2 s: why?":
# ssh logins to a private sshd whose PAM session runs Ubuntu-like
# /etc/update-motd.d scripts (pam_motd -> run-parts), traced by
# `tracedb record` with its best clocks, plus runqslower.
#
# What it does:
#   * moves whatever is in /etc/update-motd.d aside and installs, for the
#     duration, the scripts next to this file in update-motd.d/ (MODE "with",
#     the default), or nothing (MODE "none": pam_motd's run-parts finds an
#     empty directory: the "after" of a before/after comparison);
#   * makes a cgroup v2 directory, tracedb-motd, under the cgroup2 mount, so
#     that execsnoop and exitsnoop see the workload's processes only (the
#     machine may be busy with other work: its runqslower and TCP rows stay);
#   * starts `tracedb record OUTDIR --cgroup ...` with execsnoop, exitsnoop,
#     tcpstates, tcplife and runqslower, and waits until every tool attached;
#   * runs examples/login-workload.sh OUTDIR inside the cgroup (a private sshd
#     on 127.0.0.1:2222 with Debian's PAM stack; LOGINS logins 1 s apart,
#     default 4; the listener's PID goes to OUTDIR/sshd.pid). The logins are
#     plain ones by default (LOGIN_AS=user): a temporary unprivileged user,
#     tracedb-demo (shell /bin/bash, a home with /etc/skel's files only,
#     /opt/demo/home), runs `true`, and the second login is interactive and
#     exits at once, so that what a login costs is the login itself, as for
#     any user. The user is removed at the end and /etc/passwd, group, shadow,
#     gshadow, subuid and subgid are checked to be byte for byte as before.
#     LOGIN_AS=root: logins as root that do work of their own (see
#     login-workload.sh); root's shell start-up then weighs in too;
#   * waits 1.5 s, stops the recording with SIGINT (by PID: tracedb stops the
#     tools with SIGINT, which flushes them, and writes capture.json);
#   * restores /etc/update-motd.d exactly as it was, removes /run/motd.dynamic
#     if it did not exist before, and removes the cgroup.
#
# Needs: root, libbpf-tools, openssh-server + openssh-client
# (/etc/pam.d/sshd with pam_motd, as Debian and Ubuntu ship it), tracedb.
# Environment: TRACEDB (how to run tracedb, default "tracedb"; it must exec
# node itself, e.g. "node /path/to/tracedb/dist/cli/main.js", so that
# SIGINT reaches it), LOGINS (default 4), PORT (default 2222), LOGIN_AS
# (user, the default, or root), DEMO_HOME (the temporary user's home, default
# /opt/demo/home).
# Network traffic: 127.0.0.1 only.
#
# Usage: sudo examples/motd-capture.sh OUTDIR [with|none]
#   e.g. cd /opt/demo && sudo examples/motd-capture.sh ssh-motd with
# Run it with a plain environment, so that the exec attempts along PATH that
# execsnoop -x shows are the system's, e.g.
#   sudo env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
#     TRACEDB="/usr/bin/node /opt/tracedb/dist/cli/main.js" \
#     examples/motd-capture.sh ssh-motd with
set -euo pipefail
OUT=${1:?usage: motd-capture.sh OUTDIR [with|none]}
MODE=${2:-with}
[[ $MODE == with || $MODE == none ]] || { echo "motd-capture.sh: MODE is with or none, not '$MODE'" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
read -r -a TRACEDB <<< "${TRACEDB:-tracedb}"
export LOGINS=${LOGINS:-4}
export LOGIN_AS=${LOGIN_AS:-user}
MOTD=/etc/update-motd.d

[[ $(id -u) == 0 ]] || { echo "motd-capture.sh: needs root (BPF, /etc/update-motd.d)" >&2; exit 1; }
[[ -x /usr/sbin/sshd ]] || { echo "motd-capture.sh: /usr/sbin/sshd missing (apt-get install openssh-server)" >&2; exit 1; }
grep -qs pam_motd /etc/pam.d/sshd || echo "motd-capture.sh: warning: /etc/pam.d/sshd does not run pam_motd: no motd scripts will run" >&2
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[[ -n $CGROOT ]] || { echo "motd-capture.sh: no cgroup2 file system mounted (mount -t cgroup2 none /sys/fs/cgroup)" >&2; exit 1; }
CG=$CGROOT/tracedb-motd
[[ ! -e $CG ]] || { echo "motd-capture.sh: $CG exists: another capture running? (rmdir it if not)" >&2; exit 1; }
mkdir -p "$OUT"

SAVED=$(mktemp -d /tmp/tracedb-motd.XXXXXX)
DYNAMIC_EXISTED=0; [[ -e /run/motd.dynamic ]] && DYNAMIC_EXISTED=1
REC_PID=
restore() {
  if [[ -n $REC_PID ]] && kill -0 "$REC_PID" 2>/dev/null; then
    kill -INT "$REC_PID" 2>/dev/null || true
    wait "$REC_PID" 2>/dev/null || true
  fi
  if [[ -d $SAVED/motd ]]; then
    find "$MOTD" -mindepth 1 -delete
    cp -a "$SAVED/motd/." "$MOTD/"
  fi
  if (( ! DYNAMIC_EXISTED )); then rm -f /run/motd.dynamic /run/motd.dynamic.new; fi
  if [[ -d $CG ]]; then
    # the workload has ended: nothing is left in it
    rmdir "$CG" 2>/dev/null || echo "motd-capture.sh: could not remove $CG (still has processes: $(cat "$CG/cgroup.procs"))" >&2
  fi
  rm -rf "$SAVED"
}
trap restore EXIT

# /etc/update-motd.d for the duration: saved with its modes, then replaced
mkdir -p "$MOTD" "$SAVED/motd"
cp -a "$MOTD/." "$SAVED/motd/"
find "$MOTD" -mindepth 1 -delete
if [[ $MODE == with ]]; then
  install -m 755 "$HERE"/update-motd.d/* "$MOTD/"
fi
echo "$MOTD for this capture:"; ls -l "$MOTD"

mkdir "$CG"
"${TRACEDB[@]}" record "$OUT" --duration 10m --cgroup "$CG" \
  --tools execsnoop,exitsnoop,tcpstates,tcplife,runqslower 2> "$SAVED/record.err" &
REC_PID=$!
# tracedb says "recording into ..." once every tool printed its header
for ((i = 0; i < 600; i++)); do
  if grep -q '^recording into' "$SAVED/record.err"; then break; fi
  if ! kill -0 "$REC_PID" 2>/dev/null; then echo "tracedb record failed:" >&2; cat "$SAVED/record.err" >&2; exit 1; fi
  sleep 0.05
done
grep -q '^recording into' "$SAVED/record.err" || { echo "tracedb record did not start in 30 s:" >&2; cat "$SAVED/record.err" >&2; exit 1; }
sleep 1

echo "load average before the logins: $(cat /proc/loadavg)"
rc=0
# the workload in the cgroup: it and everything it starts (sshd, the sessions)
bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$CG" "$HERE/login-workload.sh" "$OUT" || rc=$?
sleep 1.5   # let the last exits and TCP closes be printed
echo "load average after the logins: $(cat /proc/loadavg)"

kill -INT "$REC_PID"
wait "$REC_PID" || rc=$?
REC_PID=
sed 's/^/  tracedb: /' "$SAVED/record.err"
echo "capture in $OUT:"; wc -l "$OUT"/*.log
exit "$rc"
