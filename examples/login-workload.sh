#!/usr/bin/env bash
# login-workload.sh - imitate real sshd logins for a tracedb capture.
#
# What it does:
#   * starts a PRIVATE OpenSSH server (the real /usr/sbin/sshd, Debian's PAM
#     stack included, so pam_motd runs run-parts /etc/update-motd.d on every
#     session) in foreground-daemon mode (-D) on 127.0.0.1:2222, with its own
#     config, host key and authorized_keys under a temp dir. The system sshd
#     (port 22) and /root/.ssh are not touched.
#   * writes the sshd listener's PID to OUTDIR/sshd.pid
#   * logs in with a generated key (LOGINS times, 1 s apart, default 3), as
#     LOGIN_AS says:
#     LOGIN_AS=root (the default; examples/ssh-login was recorded so): as root,
#       each login doing some work of its own:
#       - non-interactive logins run a command string through root's shell
#         (bash -c ...) that does work which forks WITHOUT exec (subshells,
#         $(...) of builtins, pipelines of builtins, a background function)
#         and work that execs (id, uname, cat, sh -c, env ...).
#       - the middle login is interactive: ssh -tt allocates a pty, sshd
#         execs a login shell (-bash) that reads /etc/profile, ~/.profile,
#         ~/.bashrc and then the same commands from stdin.
#     LOGIN_AS=user: plain logins, in which the login itself is the work:
#       - creates a temporary unprivileged user, tracedb-demo (useradd: shell
#         /bin/bash, home DEMO_HOME, default /opt/demo/home,
#         with the files of /etc/skel only), and authorizes the key for it;
#       - non-interactive logins run `true` (sshd: bash -c true);
#       - the middle login is interactive (ssh -tt, a login shell reading
#         /etc/profile, ~/.profile, ~/.bashrc) and types `exit` at once;
#       - removes the user and its home (userdel -r) at the end.
#   * stops sshd (SIGTERM to the PID it started) and removes the temp dir.
#
# Needs: root, openssh-server and openssh-client
#   (apt-get install -y openssh-server openssh-client); with LOGIN_AS=user,
#   useradd and userdel (passwd), and no user tracedb-demo yet.
# Environment: LOGINS (default 3), PORT (default 2222), USE_PAM (yes/no),
#   LOGIN_AS (root/user), DEMO_HOME (with LOGIN_AS=user).
# Network traffic: 127.0.0.1 only.
#
# Usage: sudo examples/login-workload.sh OUTDIR
#   normally run by examples/capture.sh while the tracing tools are running.
set -euo pipefail

OUT=${1:?usage: login-workload.sh OUTDIR}
LOGINS=${LOGINS:-3}
# USE_PAM=no: the "after" of a before/after comparison: no PAM session, so
# no pam_motd and no run-parts /etc/update-motd.d on login
USE_PAM=${USE_PAM:-yes}
PORT=${PORT:-2222}
LOGIN_AS=${LOGIN_AS:-root}
DEMO_USER=tracedb-demo
DEMO_HOME=${DEMO_HOME:-/opt/demo/home}
case $LOGIN_AS in
  root) LOGIN=root ;;
  user)
    LOGIN=$DEMO_USER
    if id "$DEMO_USER" > /dev/null 2>&1; then
      echo "login-workload.sh: user $DEMO_USER exists already: left over from an earlier run? (userdel -r $DEMO_USER)" >&2; exit 1
    fi
    if [[ -e $DEMO_HOME ]]; then
      echo "login-workload.sh: $DEMO_HOME exists already: remove it or set DEMO_HOME" >&2; exit 1
    fi ;;
  *) echo "login-workload.sh: LOGIN_AS is root or user, not '$LOGIN_AS'" >&2; exit 2 ;;
esac
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/tracedb-sshd.XXXXXX)
SSHD_PID=
MADE_USER=0
MADE_PARENT=
ACCOUNTS=(passwd passwd- group group- shadow shadow- gshadow gshadow- subuid subuid- subgid subgid-)
cleanup() {
  if [[ -n $SSHD_PID ]] && kill -0 "$SSHD_PID" 2>/dev/null; then
    kill -TERM "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
  fi
  if (( MADE_USER )); then
    # -r: its home and mail spool too; userdel also drops its group and
    # its /etc/subuid and /etc/subgid ranges
    userdel -r "$DEMO_USER" || userdel -r -f "$DEMO_USER" || true
    if [[ -n $MADE_PARENT ]]; then rmdir "$MADE_PARENT" || true; fi
    # the account files as they were, byte for byte (useradd and userdel
    # also rewrite the "-" backups); put back in place if not
    local f
    for f in "${ACCOUNTS[@]}"; do
      if [[ -e $WORK/etc/$f ]] && ! cmp -s "$WORK/etc/$f" "/etc/$f"; then
        echo "login-workload.sh: /etc/$f differs from before the run: put back as it was" >&2
        cat "$WORK/etc/$f" > "/etc/$f"
      elif [[ ! -e $WORK/etc/$f && -e /etc/$f ]]; then
        echo "login-workload.sh: /etc/$f did not exist before the run: removed" >&2
        rm -f "/etc/$f"
      fi
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C tracedb-host -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -C tracedb-client -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"
if [[ $LOGIN_AS == user ]]; then
  mkdir "$WORK/etc"
  for f in "${ACCOUNTS[@]}"; do
    if [[ -e /etc/$f ]]; then cp -a "/etc/$f" "$WORK/etc/$f"; fi
  done
  if [[ ! -d $(dirname "$DEMO_HOME") ]]; then MADE_PARENT=$(dirname "$DEMO_HOME"); mkdir "$MADE_PARENT"; fi
  useradd --create-home --home-dir "$DEMO_HOME" --skel /etc/skel --shell /bin/bash \
    --comment 'tracedb demo login' "$DEMO_USER"
  MADE_USER=1
  # sshd reads authorized_keys as the user who logs in
  chmod 755 "$WORK"; chmod 644 "$WORK/authorized_keys"
fi
mkdir -p /run/sshd   # privilege-separation dir, normally created by systemd
chmod 755 /run/sshd

cat > "$WORK/sshd_config" <<EOF
# Port and ListenAddress are given on the command line (-p, -o).
HostKey $WORK/host_key
PidFile $WORK/sshd.pidfile
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
PermitRootLogin $([[ $LOGIN_AS == root ]] && echo prohibit-password || echo no)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $USE_PAM
PrintMotd no
PrintLastLog yes
X11Forwarding no
AcceptEnv LANG LC_*
LogLevel INFO
EOF

# -D: do not detach, so $! is the listener; -e: log to stderr.
/usr/sbin/sshd -f "$WORK/sshd_config" -D -e -p "$PORT" \
  -o ListenAddress=127.0.0.1 2>"$WORK/sshd.stderr" &
SSHD_PID=$!
echo "$SSHD_PID" > "$OUT/sshd.pid"

# Wait (bash builtins only, no extra processes) until 127.0.0.1:PORT listens.
want=$(printf '0100007F:%04X' "$PORT")
ready=0
for ((i = 0; i < 100; i++)); do
  while read -r _ local _ state _; do
    if [[ $local == "$want" && $state == 0A ]]; then ready=1; break; fi
  done < /proc/net/tcp
  if (( ready )); then break; fi
  sleep 0.05
done
if (( ! ready )); then
  echo "sshd did not start:" >&2; cat "$WORK/sshd.stderr" >&2; exit 1
fi

SSH=(ssh -p "$PORT" -i "$WORK/client_key"
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes)

# What a login does. Runs under root's shell on the server side.
SESSION=$(cat <<'EOS'
echo "hello from $(hostname) session shell $$"
( cd /tmp && echo "subshell $BASHPID of $$" )
greeting=$(printf '%s' builtin-only)
printf '%s\n' a b c | while read -r line; do : "$line"; done
{ echo x; echo y; } | { read -r first; echo "first=$first"; }
bgwork() { local i; for ((i = 0; i < 3; i++)); do :; done; echo "bg $BASHPID"; }
bgwork & wait $!
id; uname -snrm; cat /etc/hostname
sh -c 'exit 3' || echo "sh exited $?"
sh -c 'exec env true'
echo "$greeting done"
EOS
)

# LOGIN_AS=user: the login is the work
if [[ $LOGIN_AS == user ]]; then SESSION=true; fi

for ((n = 1; n <= LOGINS; n++)); do
  if (( n == 2 )); then
    # interactive login with a pty: sshd execs "-bash" (a login shell)
    if [[ $LOGIN_AS == user ]]; then
      printf 'exit\n'
    else
      printf '%s\nexit\n' "$SESSION"
    fi | "${SSH[@]}" -tt "$LOGIN@127.0.0.1" > "$WORK/login$n.out" 2>&1 || true
  else
    "${SSH[@]}" "$LOGIN@127.0.0.1" "$SESSION" > "$WORK/login$n.out" 2>&1 || true
  fi
  echo "login $n:"; sed 's/^/  | /' "$WORK/login$n.out"
  if (( n < LOGINS )); then sleep 1; fi
done

echo "sshd log:"; sed 's/^/  | /' "$WORK/sshd.stderr"
