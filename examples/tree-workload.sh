#!/usr/bin/env bash
# tree-workload.sh - a process tree with EXACT ground truth, for tracedb tests.
#
# The root (this bash, PID written to OUTDIR/root.pid) creates ~70 processes,
# nested up to 5 levels, and EVERY process it or its descendants create
# writes one line "pid parent_pid kind" to OUTDIR/truth.txt as its own first
# action, so the truth does not depend on any tracing tool:
#   fork  - a bash subshell, $(...), pipeline element or background job that
#           never execs (only exitsnoop can see it);
#   exec  - a forked child that execs (sh -c '...', bash -c '...'); some of
#           them exec again ("exec env true": sh -> env -> true, same PID).
# Parents are recorded explicitly: a subshell's $PPID is the parent of the
# SHELL, not of the subshell, so every process keeps its own PID in $me
# ($BASHPID) and hands it down to the processes it forks.
#
# Also in the tree: non-zero exit codes (exit 3, 4, 5, 7), one exec'd sh
# killed by SIGTERM, one subshell killed by SIGKILL, and one orphan whose
# parent exits first (it is reparented, so exitsnoop prints the reaper as
# its PPID, while truth.txt keeps the parent that forked it).
#
# No network, no files outside OUTDIR. Needs bash, dash (sh), coreutils.
# OUTDIR must exist (the root creates no process that is not in truth.txt).
#
# Usage: examples/tree-workload.sh OUTDIR
#   under tracing: sudo OPENSNOOP=0 examples/capture.sh OUTDIR examples/tree-workload.sh OUTDIR
set -uo pipefail

OUT=${1:?usage: tree-workload.sh OUTDIR}
# No "mkdir -p" here: it would be an unrecorded child of the root.
[[ -d $OUT ]] || { echo "tree-workload.sh: $OUT: create the directory first" >&2; exit 2; }
export T="$OUT/truth.txt"
export PATH=/usr/local/bin:/usr/bin:/bin
: > "$T"
me=$BASHPID
echo "$me" > "$OUT/root.pid"

# rec PARENT: first action of every forked bash process (no exec).
rec() { echo "$BASHPID $1 fork" >> "$T"; }
# ex SCRIPT: fork + exec sh, which records itself and runs SCRIPT. Call it
# only synchronously from a bash process (never with & or in a pipeline),
# so the caller's $BASHPID is the sh's parent.
ex() { sh -c 'echo "$$ $0 exec" >> "$T"; eval "$1"' "$BASHPID" "$1"; }

session() { # runs in a forked subshell; $me is the session's parent
  rec "$me"; me=$BASHPID

  ex 'exec /bin/true'                                   # exec, exit 0
  greeting=$(rec "$me"; printf 'hi')                    # fork ($(...))
  { rec "$me"; echo x; } | { rec "$me"; read -r _; }    # 2 forks (pipeline)

  ( rec "$me"; me=$BASHPID                              # fork, level 2
    ( rec "$me"; me=$BASHPID                            # fork, level 3
      ex 'exec cat /etc/hostname > /dev/null'           # exec, level 4
      ( rec "$me"; exit 5 )                             # fork, level 4, exit 5
      :
    )
    ex 'exit 3'                                         # exec, level 3, exit 3
    :
  )

  worker() { rec "$me"; me=$BASHPID; ex 'exec uname -r > /dev/null'; :; }
  worker &                                              # fork (background function)
  wait $!
  : "$greeting"
}

# Five "sessions", two of them concurrently.
for n in 1 2 3; do
  ( session ) ; :
done
( session ) & s4=$!
( session ) & s5=$!
wait "$s4" "$s5"

# An exec'd bash that forks without exec, one child exiting 4 and one
# exec'ing again.
bash -c '
  echo "$$ $1 exec" >> "$T"
  ( echo "$BASHPID $$ fork" >> "$T"; exit 4 )
  ( echo "$BASHPID $$ fork" >> "$T"; me=$BASHPID
    sh -c "echo \"\$\$ $BASHPID exec\" >> \"\$T\"; exec env true"; : )
  exit 0' bash "$me"

ex 'exec env true'                                      # execs twice: sh -> env -> true
ex 'exit 7'                                             # exit 7
ex 'kill -TERM $$'                                      # killed by SIGTERM
( rec "$me"; kill -KILL "$BASHPID" ) 2>/dev/null        # killed by SIGKILL

# An orphan: its parent exits after ~0.1 s, the orphan lives ~0.5 s.
( rec "$me"; me=$BASHPID
  ( rec "$me"; ex 'exec sleep 0.5'; : ) &
  ex 'exec sleep 0.1'
  exit 0 )
ex 'exec sleep 0.8'                                     # outlive the orphan

exit 0
