#!/usr/bin/env bash
# `make slurm-down`: stop the test cluster `make slurm` started (slurmd,
# slurmctld, munged): by pid file, then by exact process name for daemons
# started some other way. Stopping what is not running is fine.
set -uo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
exec </dev/null

STATE="${MEOW_SLURM_STATE:-/var/lib/meow-slurm}"

if [ "$(id -u)" != 0 ]; then
  echo "slurm: error: make slurm-down stops system daemons, so it must run as root (e.g. sudo make slurm-down)." >&2
  exit 1
fi

# Waits up to 10 s for the pids to exit, then kills them.
stop_pids() {  # name pid...
  local name="$1" pid left
  shift
  [ "$#" -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq 1 40); do
    left=()
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
    [ "${#left[@]}" -eq 0 ] && { echo "slurm: stopped $name"; return 0; }
    sleep 0.25
  done
  echo "slurm: $name (${left[*]}) did not stop in 10 s; killing it"
  kill -9 "${left[@]}" 2>/dev/null || true
}

stop() {  # name pidfile
  local name="$1" file="$2" pids=()
  if [ -s "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then pids+=("$(cat "$file")"); fi
  # Fallback: the same daemon under its exact name (pidfile lost, or started by hand).
  if command -v pgrep >/dev/null 2>&1; then
    while read -r pid; do
      [ -n "$pid" ] && [[ " ${pids[*]} " != *" $pid "* ]] && pids+=("$pid")
    done < <(pgrep -x "$name" || true)
  fi
  stop_pids "$name" "${pids[@]}"
  rm -f "$file"
}

stop slurmd "$STATE/run/slurmd.pid"
stop slurmctld "$STATE/run/slurmctld.pid"
stop munged /run/munge/munged.pid
echo "slurm: down"
