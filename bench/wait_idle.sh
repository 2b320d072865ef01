#!/usr/bin/env bash
# Waits until the machine's CPUs have been at least PERCENT idle over 5 seconds, for at most
# MAX_SECONDS, so a benchmark run does not start in the middle of someone else's test suite.
# Prints the idle share it saw on stderr; gives up with a warning (exit 0) rather than block forever.
# Usage: bench/wait_idle.sh [percent=85] [max_seconds=300]   (Linux: reads /proc/stat)
set -euo pipefail
WANT="${1:-85}"; MAX="${2:-300}"
[[ "$WANT" =~ ^[0-9]{1,3}$ && "$WANT" -le 100 && "$MAX" =~ ^[0-9]{1,5}$ ]] \
  || { echo "bench: usage: wait_idle.sh [percent 0-100] [max_seconds]" >&2; exit 2; }
[ -r /proc/stat ] || { echo "bench: /proc/stat unreadable; not waiting" >&2; exit 0; }

idle_percent() {  # over the next 5 seconds; iowait counts as idle
  local _ u1 n1 s1 i1 w1 q1 sq1 st1 u2 n2 s2 i2 w2 q2 sq2 st2
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
  sleep 5
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
  local busy=$(( (u2 - u1) + (n2 - n1) + (s2 - s1) + (q2 - q1) + (sq2 - sq1) + (st2 - st1) ))
  local idle=$(( (i2 - i1) + (w2 - w1) ))
  echo $(( (busy + idle) > 0 ? 100 * idle / (busy + idle) : 100 ))
}

waited=0
while :; do
  now="$(idle_percent)"; waited=$(( waited + 5 ))
  if [ "$now" -ge "$WANT" ]; then
    echo "bench: CPUs ${now}% idle (waited ${waited}s)" >&2; exit 0
  fi
  if [ "$waited" -ge "$MAX" ]; then
    echo "bench: CPUs still only ${now}% idle after ${waited}s; going ahead, expect noisy figures" >&2; exit 0
  fi
done
