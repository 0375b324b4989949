#!/usr/bin/env bash
# `make slurm`: a single-node Slurm cluster ("meow") on this machine, for the
# Slurm executor's tests and demos. Installs Debian's slurm-wlm and munge with
# apt when missing, then starts munged, slurmctld and slurmd directly (no
# systemd: containers and CI machines have none) and waits until the node is
# idle. Idempotent: when the cluster is already up and answering it only says so.
#
# Environment:
#   MEOW_SLURM_CPUS   CPUs the node claims (default max(nproc, 4); more than
#                     the machine has is fine, SlurmdParameters=config_overrides)
#   MEOW_SLURM_STATE  state dir for spool, logs and pid files (/var/lib/meow-slurm)
#   MEOW_SLURM_WAIT   seconds to wait for the node to become idle (60)
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
exec </dev/null  # never wait for a prompt (CI has no stdin)

STATE="${MEOW_SLURM_STATE:-/var/lib/meow-slurm}"
WAIT="${MEOW_SLURM_WAIT:-60}"
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
MUNGE_KEY=/etc/munge/munge.key
MARKER="# Written by meow's scripts/slurm-up.sh (make slurm)."

say() { echo "slurm: $*"; }
die() { echo "slurm: error: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  die "make slurm starts system daemons (munged, slurmctld, slurmd) and writes /etc/slurm, so it must run as root (e.g. sudo make slurm). To run jobs here without Slurm, use executor: local."
fi

# --- install -----------------------------------------------------------------
missing=()
for c in sbatch squeue scontrol scancel sinfo slurmctld slurmd munged munge unmunge; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "missing ${missing[*]} and there is no apt-get: install Slurm (slurmctld, slurmd, client commands) and munge by hand."
  say "installing slurm-wlm and munge with apt (missing: ${missing[*]})"
  apt_install() { apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold slurm-wlm munge >/dev/null; }
  if ! apt_install; then
    say "apt-get install failed; running apt-get update and trying again"
    apt-get update -qq || die "apt-get update failed"
    apt_install || die "apt-get install -y slurm-wlm munge failed (see the output above)"
  fi
  for c in "${missing[@]}"; do
    command -v "$c" >/dev/null 2>&1 || die "apt installed slurm-wlm and munge but $c is still missing"
  done
fi

mkdir -p "$STATE"/{ctld,d,log,run}
# Two `make slurm` at once (parallel test runs) would start daemons twice.
exec 9>"$STATE/lock"  # closed (9>&-) for the daemons, which would keep it forever
flock -w 120 9 || die "another make slurm holds $STATE/lock for over 2 minutes"

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- munge -------------------------------------------------------------------
# munged insists that its key is owned by the user it runs as and readable by
# no one else; it runs as the munge user when there is one (as Debian's
# service does), else as root.
if id munge >/dev/null 2>&1; then MUNGE_USER=munge; else MUNGE_USER=root; fi
MUNGE_PID=/run/munge/munged.pid

munge_ok() { timeout 10 munge -n 2>/dev/null | timeout 10 unmunge >/dev/null 2>&1; }

if ! munge_ok; then
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s "$MUNGE_KEY" ]; then
    say "creating a munge key in $MUNGE_KEY"
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$MUNGE_KEY" --force
    else
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
    fi
  fi
  chown "$MUNGE_USER:$MUNGE_USER" /etc/munge "$MUNGE_KEY" /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  chmod 0400 "$MUNGE_KEY"
  if alive "$MUNGE_PID"; then kill "$(cat "$MUNGE_PID")" 2>/dev/null || true; sleep 1; fi
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock "$MUNGE_PID"
  say "starting munged"
  if [ "$MUNGE_USER" = munge ]; then
    runuser -u munge -- munged --force 9>&- || die "munged did not start; see /var/log/munge/munged.log"
  else
    munged --force 9>&- || die "munged did not start; see /var/log/munge/munged.log"
  fi
  for _ in $(seq 1 20); do munge_ok && break; sleep 0.5; done
  munge_ok || { tail -n 20 /var/log/munge/munged.log >&2 || true;
    die "munged is not answering (munge -n | unmunge fails); check $MUNGE_KEY (mode 0400, owner $MUNGE_USER) and the log above"; }
fi

# --- slurm.conf --------------------------------------------------------------
HOST="$(hostname)"
NODE="$(hostname -s)"
NPROC="$(nproc)"
CPUS="${MEOW_SLURM_CPUS:-$(( NPROC > 4 ? NPROC : 4 ))}"
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || die "MEOW_SLURM_CPUS must be a positive integer, not '$CPUS'"
# Below what is free now, in whole GiB so that reruns write the same file.
AVAIL_MB=$(( $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) / 1024 ))
MEM_MB=$(( (AVAIL_MB * 9 / 10) / 1024 * 1024 ))
[ "$MEM_MB" -ge 1024 ] || MEM_MB=$(( AVAIL_MB > 512 ? AVAIL_MB - 256 : 256 ))
# A job without --mem gets this per CPU rather than the whole node, so that
# several small jobs run side by side.
DEF_MEM=$(( MEM_MB / CPUS < 1024 ? MEM_MB / CPUS : 1024 ))

PARAMS_LINE="# meow-params: node=$NODE cpus=$CPUS state=$STATE"
new_conf() {
  cat <<EOF
$MARKER
$PARAMS_LINE
# A single-node test cluster; \`make slurm-down\` stops it.
ClusterName=meow
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=2
# The node may claim more CPUs than the machine has (MEOW_SLURM_CPUS).
SlurmdParameters=config_overrides
ReturnToService=2
# No slurmdbd: finished jobs stay visible to squeue/scontrol for an hour.
MinJobAge=3600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
KillWait=5
InactiveLimit=0
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

CTLD_PID="$STATE/run/slurmctld.pid"
SLURMD_PID="$STATE/run/slurmd.pid"

# The node's state word; sinfo adds `*` when slurmd does not answer, which
# then matches none of the usable states below.
node_state() { timeout 15 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1; }
up_line() { say "cluster \"meow\" up, node $NODE ($CPUS CPUs, ${MEM_MB} MB), partition debug"; }

if [ -f "$CONF" ] && ! grep -qxF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by make slurm: this machine already has a Slurm configuration. Use that cluster as it is, or move $CONF away and run make slurm again."
fi

# Fast path: same parameters, all three daemons alive, node usable.
if [ -f "$CONF" ] && grep -qxF "$PARAMS_LINE" "$CONF" && alive "$CTLD_PID" && alive "$SLURMD_PID"; then
  case "$(node_state)" in
    idle | mixed | allocated | completing)
      MEM_MB="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' "$CONF")"
      up_line
      exit 0 ;;
  esac
fi

restart=0
if [ ! -f "$CONF" ] || ! grep -qxF "$PARAMS_LINE" "$CONF"; then
  mkdir -p "$CONF_DIR"
  say "writing $CONF ($CPUS CPUs, ${MEM_MB} MB)"
  new_conf >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
  restart=1
fi

stop_pidfile() {  # pidfile name
  local f="$1" pid
  alive "$f" || return 0
  pid="$(cat "$f")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  say "$2 (pid $pid) did not stop in 10 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}
if [ "$restart" = 1 ]; then
  stop_pidfile "$SLURMD_PID" slurmd
  stop_pidfile "$CTLD_PID" slurmctld
fi

show_logs() {
  for f in "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log"; do
    [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 25 "$f" >&2; }
  done
  return 0
}

if ! alive "$CTLD_PID"; then
  say "starting slurmctld"
  slurmctld 9>&- || { show_logs; die "slurmctld did not start (log above; config in $CONF)"; }
fi
# slurmd registers with the controller: wait until it answers first.
for _ in $(seq 1 40); do timeout 10 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.5; done
if ! alive "$SLURMD_PID"; then
  say "starting slurmd"
  slurmd 9>&- || { show_logs; die "slurmd did not start (log above; config in $CONF)"; }
fi

say "waiting up to ${WAIT}s for node $NODE to be idle"
deadline=$(( SECONDS + WAIT ))
resumed=0
state=""
while [ "$SECONDS" -lt "$deadline" ]; do
  state="$(node_state)"
  case "$state" in
    idle | mixed | allocated | completing) break ;;
    down* | drain* | drained* | draining* | fail* | inval*)
      # After a restart the node can keep the DOWN/DRAIN of its last life.
      if [ "$resumed" = 0 ]; then
        say "node $NODE is $state; resuming it"
        timeout 15 scontrol update nodename="$NODE" state=resume 2>&1 || true
        resumed=1
      fi ;;
  esac
  sleep 1
done
case "$state" in
  idle | mixed | allocated | completing) ;;
  *)
    state="$(node_state)"
    show_logs
    timeout 15 scontrol show node "$NODE" >&2 2>&1 || true
    die "node $NODE is '${state:-not answering}' after ${WAIT}s. Read the logs above; 'make slurm-down && make slurm' restarts everything, and 'rm -rf $STATE/ctld/*' forgets saved jobs and node state." ;;
esac
up_line
