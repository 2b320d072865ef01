#!/usr/bin/env bash
# Stops what deploy/local-cluster/run.sh started, by the process ids it recorded in CLUSTER_DIR
# (default ${TMPDIR:-/tmp}/sso-local-cluster): the balancer first, then each node (a gunicorn
# master, which stops its own workers). A process is signalled only while its command line still
# is the one run.sh started, so a recycled pid is never hit.
set -euo pipefail

dir="${CLUSTER_DIR:-${TMPDIR:-/tmp}/sso-local-cluster}"
stop_timeout="${CLUSTER_STOP_TIMEOUT:-20}"
[[ "$stop_timeout" =~ ^[0-9]+$ ]] || { echo "CLUSTER_STOP_TIMEOUT must be a number of seconds" >&2; exit 2; }

ours() {
    local pid="$1" expected="$2" cmdline
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmdline" == *"$expected"* ]]
}

stop_one() {
    local pid_file="$1" expected="$2" pid deadline
    [[ -f "$pid_file" ]] || return 0
    pid="$(cat "$pid_file")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid" "$expected"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + stop_timeout))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "local-cluster: $pid did not stop in ${stop_timeout}s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "stopped $(basename "$pid_file" .pid) ($pid)"
    fi
    rm -f "$pid_file"
}

stop_one "$dir/balancer.pid" "nginx"
for pid_file in "$dir"/node*.pid; do
    [[ -e "$pid_file" ]] || continue
    stop_one "$pid_file" "serve"
done
