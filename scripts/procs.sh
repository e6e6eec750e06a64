# procs.sh - sourced, not run: the scratch directory and the background
# processes (servers, relays) of a script that starts them, ended and
# removed when it exits. Used by scripts/mcu-run.sh and scripts/mcu-cost.sh.
#
#   procs_init NAME          tmp=<a new directory>, pids=(), and an EXIT
#                            trap that kills every pid in pids and removes tmp
#   wait_file FILE PID WHAT  waits up to 10 s for FILE to be non-empty; calls
#                            the script's die when PID exits first or the
#                            time runs out
# Callers use set -euo pipefail and define die.

procs_init() { # NAME
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  pids=()
  trap procs_cleanup EXIT
}

# shellcheck disable=SC2317  # called through the EXIT trap
procs_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}

wait_file() { # file pid what
  local _
  for _ in $(seq 1 100); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited early"
    sleep 0.1
  done
  die "$3 did not start"
}
