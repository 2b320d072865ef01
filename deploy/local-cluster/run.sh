#!/usr/bin/env bash
# Two IdP nodes behind an nginx round-robin balancer, on one machine and without containers, so a
# test can prove that any node serves any step of a flow. Both nodes share the PostgreSQL database
# and the Redis store given in the environment, and the same IDP_* settings.
#
#   IDP_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
#   IDP_REDIS_URL=redis://127.0.0.1:6379/15 deploy/local-cluster/run.sh
#   ...                                  (requests to http://127.0.0.1:8180)
#   deploy/local-cluster/stop.sh
#
# Environment:
#   IDP_DATABASE_URL, IDP_REDIS_URL  required; every other IDP_* variable reaches both nodes as is
#   IDP_ISSUER          default http://127.0.0.1:$CLUSTER_LB_PORT (the balancer is the issuer)
#   CLUSTER_DIR            pid files, logs, nginx files (default ${TMPDIR:-/tmp}/sso-local-cluster)
#   CLUSTER_LB_PORT        balancer port (default 8180)
#   CLUSTER_NODE_PORTS     node ports, space separated (default "8100 8101")
#   CLUSTER_WORKERS        gunicorn workers per node (default 2)
#   CLUSTER_START_TIMEOUT  seconds to wait for each node (default 60)
#   CLUSTER_IDP_COMMAND    the idp command (default: idp on PATH)
#   CLUSTER_NGINX_BIN      nginx (default: nginx on PATH, else /usr/sbin/nginx)
#
# Every answer of the balancer names the node that served it in an X-Upstream-Node header
# (127.0.0.1:8100 or 127.0.0.1:8101). When everything answers, the script prints
#   CLUSTER_URL=...  CLUSTER_NODES=...  CLUSTER_DIR=...
# one per line, and exits 0; the processes keep running until stop.sh. Exit status 2 means bad
# settings, 1 that something did not start (whatever had started is stopped again).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${CLUSTER_DIR:-${TMPDIR:-/tmp}/sso-local-cluster}"
lb_port="${CLUSTER_LB_PORT:-8180}"
read -r -a node_ports <<<"${CLUSTER_NODE_PORTS:-8100 8101}"
workers="${CLUSTER_WORKERS:-2}"
start_timeout="${CLUSTER_START_TIMEOUT:-60}"
read -r -a idp_cmd <<<"${CLUSTER_IDP_COMMAND:-idp}"

fail() {
    echo "local-cluster: $1" >&2
    exit "${2:-1}"
}

is_port() {
    [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

[[ -n "${IDP_DATABASE_URL:-}" ]] || fail "IDP_DATABASE_URL must name the shared PostgreSQL database" 2
[[ -n "${IDP_REDIS_URL:-}" ]] || fail "IDP_REDIS_URL must name the shared Redis" 2
is_port "$lb_port" || fail "CLUSTER_LB_PORT must be a port number, got '$lb_port'" 2
((${#node_ports[@]} >= 2)) || fail "CLUSTER_NODE_PORTS must list at least two ports" 2
for port in "${node_ports[@]}"; do
    is_port "$port" || fail "CLUSTER_NODE_PORTS must hold port numbers, got '$port'" 2
    [[ "$port" != "$lb_port" ]] || fail "node port $port is also the balancer's" 2
done
if ! [[ "$workers" =~ ^[0-9]{1,2}$ ]] || ((workers < 1 || workers > 64)); then
    fail "CLUSTER_WORKERS must be between 1 and 64, got '$workers'" 2
fi
if ! [[ "$start_timeout" =~ ^[0-9]{1,5}$ ]] || ((start_timeout < 1)); then
    fail "CLUSTER_START_TIMEOUT must be a number of seconds, got '$start_timeout'" 2
fi
if ((${#idp_cmd[@]} == 0)) || ! command -v "${idp_cmd[0]}" >/dev/null; then
    fail "the idp command was not found: install the project or set CLUSTER_IDP_COMMAND" 2
fi
nginx_bin="${CLUSTER_NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"
[[ -x "$nginx_bin" ]] || fail "nginx was not found (apt-get install nginx-light) or set CLUSTER_NGINX_BIN" 2
command -v curl >/dev/null || fail "curl is needed to wait for the nodes" 2

for pid_file in "$dir"/*.pid; do
    if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        fail "already running from $dir: run deploy/local-cluster/stop.sh first"
    fi
done

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for port in "$lb_port" "${node_ports[@]}"; do
    ! port_busy "$port" || fail "port $port on 127.0.0.1 is already in use"
done

export IDP_ISSUER="${IDP_ISSUER:-http://127.0.0.1:$lb_port}"
# The balancer is the one proxy in front of the nodes.
export IDP_TRUSTED_PROXIES="${IDP_TRUSTED_PROXIES:-1}"

mkdir -p "$dir/logs" "$dir/nginx/temp"
rm -f "$dir"/*.pid

started=false
cleanup_on_failure() {
    if [[ "$started" != true ]]; then
        CLUSTER_DIR="$dir" "$here/stop.sh" >/dev/null 2>&1 || true
    fi
}
trap cleanup_on_failure EXIT

# Answers 200 within the deadline, or the node's log goes to stderr.
wait_ready() {
    local url="$1" pid="$2" log="$3" deadline=$((SECONDS + start_timeout))
    while ((SECONDS < deadline)); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" == 200 ]]; then
            return 0
        fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.3
    done
    echo "local-cluster: $url did not answer; last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    return 1
}

# One migration before any node starts, so the nodes never race each other on the schema.
if ! "${idp_cmd[@]}" db upgrade >"$dir/logs/db-upgrade.log" 2>&1; then
    tail -n 40 "$dir/logs/db-upgrade.log" >&2
    fail "idp db upgrade failed"
fi

# Nodes start one after the other: in development mode the first start may create the signing
# keys, and the second node must find them rather than make its own.
nodes=()
for index in "${!node_ports[@]}"; do
    port="${node_ports[$index]}"
    log="$dir/logs/node$index.log"
    setsid "${idp_cmd[@]}" serve --host 127.0.0.1 --port "$port" --workers "$workers" \
        </dev/null >"$log" 2>&1 &
    echo $! >"$dir/node$index.pid"
    wait_ready "http://127.0.0.1:$port/readyz" "$!" "$log" || fail "node $index did not start"
    nodes+=("http://127.0.0.1:$port")
done

user_line=""
if ((EUID == 0)); then
    # nginx workers would otherwise run as nobody and could not write their temp files here.
    user_line="user root;"
fi
servers=""
for port in "${node_ports[@]}"; do
    servers+="        server 127.0.0.1:$port;"$'\n'
done
cat >"$dir/nginx/nginx.conf" <<NGINX
$user_line
worker_processes 1;
pid $dir/balancer.pid;
error_log $dir/logs/nginx-error.log warn;

events {
    worker_connections 512;
}

http {
    log_format cluster '\$remote_addr "\$request" \$status node=\$upstream_addr';
    access_log $dir/logs/nginx-access.log cluster;
    client_body_temp_path $dir/nginx/temp/body;
    proxy_temp_path $dir/nginx/temp/proxy;
    fastcgi_temp_path $dir/nginx/temp/fastcgi;
    uwsgi_temp_path $dir/nginx/temp/uwsgi;
    scgi_temp_path $dir/nginx/temp/scgi;

    # Round robin, nginx's default, and no kept-alive upstream connections: consecutive requests
    # of one browser or client land on alternating nodes.
    upstream idp_nodes {
$servers    }

    server {
        listen 127.0.0.1:$lb_port;
        client_max_body_size 6m;

        location / {
            proxy_pass http://idp_nodes;
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Request-ID \$request_id;
            # A failing node must show as a failure, not be hidden by a retry on the other one.
            proxy_next_upstream off;
            add_header X-Upstream-Node \$upstream_addr always;
        }
    }
}
NGINX

nginx_args=(-p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/logs/nginx-error.log")
if ! "$nginx_bin" -t -q "${nginx_args[@]}" 2>"$dir/logs/nginx-test.log"; then
    cat "$dir/logs/nginx-test.log" >&2
    fail "the balancer's configuration was refused"
fi
"$nginx_bin" "${nginx_args[@]}" || fail "nginx did not start (see $dir/logs/nginx-error.log)"
wait_ready "http://127.0.0.1:$lb_port/readyz" "" "$dir/logs/nginx-error.log" || fail "the balancer did not answer"

started=true
echo "CLUSTER_URL=http://127.0.0.1:$lb_port"
echo "CLUSTER_NODES=${nodes[*]}"
echo "CLUSTER_DIR=$dir"
