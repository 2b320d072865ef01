#!/usr/bin/env bash
# The IdP under load as in production: `idp serve` (gunicorn, 2 workers) on PostgreSQL + Redis,
# driven by wrk on loopback with the peer benchmark's settings (-t2 -c32, /work/shared/peers/bench-peer.sh).
# Prints requests/second, p50, p99, non-2xx and socket errors per case. A tool, not a test: nothing
# here asserts a speed. Everything it creates (scratch database, Redis keys, server) goes at exit,
# Ctrl-C included. See bench/README.md.
#
# Usage: bench/run.sh [seconds_per_case=5] [wrk_threads=2] [wrk_connections=32]
# Environment:
#   BENCH_SERVER_THREADS  gunicorn threads per worker; 1 = sync worker, more = gthread (default 2, the
#                         fastest setting measured, see bench/RESULTS.md)
#   BENCH_SWEEP           space-separated thread counts to run one after another, e.g. "1 2 4 8"
#   BENCH_PG_URL          PostgreSQL server for the scratch database
#                         (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
#   BENCH_REDIS_URL       Redis database (default redis://127.0.0.1:6379/14); keys get a unique prefix
#   BENCH_SEED_RATE       refresh tokens and codes seeded per second of a case (default 3000); the
#                         one-each cases report when they ran out
#   BENCH_PORT            port of the IdP (default: a free one)
#   BENCH_WAIT_IDLE       before each server setting, wait (up to 5 min) until the CPUs are this
#                         many percent idle (bench/wait_idle.sh); default 0, do not wait
set -euo pipefail

DUR="${1:-5}"; T="${2:-2}"; C="${3:-32}"
for n in "$DUR" "$T" "$C"; do
  [[ "$n" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "bench: arguments are whole numbers: seconds threads connections" >&2; exit 2; }
done
DEFAULT_THREADS=2  # the fastest setting measured on 2 cores, see bench/RESULTS.md
SERVER_THREADS="${BENCH_SERVER_THREADS:-$DEFAULT_THREADS}"
SWEEP="${BENCH_SWEEP:-$SERVER_THREADS}"
for n in $SWEEP; do
  [[ "$n" =~ ^[1-9][0-9]?$ && "$n" -le 64 ]] || { echo "bench: server thread counts are 1-64, got '$n'" >&2; exit 2; }
done
PG_URL="${BENCH_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}"
SEED_RATE="${BENCH_SEED_RATE:-3000}"
[[ "$SEED_RATE" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "bench: BENCH_SEED_RATE must be a whole number" >&2; exit 2; }
WAIT_IDLE="${BENCH_WAIT_IDLE:-0}"
[[ "$WAIT_IDLE" =~ ^[0-9]{1,3}$ && "$WAIT_IDLE" -le 100 ]] || { echo "bench: BENCH_WAIT_IDLE is a percentage" >&2; exit 2; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"; HERE="$ROOT/bench"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PY="$ROOT/.venv/bin/python"; [ -x "$PY" ] || PY="$(command -v python3 || true)"
# The console script when the project is installed (make bench does that), the same entry point otherwise.
if [ -x "$ROOT/.venv/bin/idp" ]; then IDP=("$ROOT/.venv/bin/idp")
else IDP=("$PY" -c 'import sys; from idp.cli import main; sys.exit(main())'); fi

# ---- prerequisites ---------------------------------------------------------------------------
command -v wrk >/dev/null || { echo "bench: wrk missing: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: curl missing: apt-get install -y curl" >&2; exit 1; }
command -v setsid >/dev/null || { echo "bench: setsid missing: apt-get install -y util-linux" >&2; exit 1; }
[ -n "$PY" ] || { echo "bench: python3 missing; run 'make install' first" >&2; exit 1; }
"$PY" -c 'import idp.app, psycopg, redis, gunicorn' 2>/dev/null \
  || { echo "bench: the IdP's Python dependencies are missing (with psycopg); run 'make install'" >&2; exit 1; }
"$PY" "$HERE/scratch.py" check "$PG_URL" "$REDIS_URL" >/dev/null

# ---- scratch resources, removed at exit --------------------------------------------------------
RUN_ID="$(date +%s)$$"; DB_NAME="idp_bench_${RUN_ID}"
PREFIX="bench$("$PY" -c 'import secrets; print(secrets.token_hex(6))'):"
tmp="$(mktemp -d)"; SPID=""; DB_CREATED=""
stop_server() {
  [ -n "$SPID" ] || return 0
  # The server leads its own process group (setsid), so its gunicorn workers stop with it.
  kill -TERM -- "-$SPID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP PIPE
  stop_server
  [ -n "$DB_CREATED" ] && { "$PY" "$HERE/scratch.py" drop-db "$PG_URL" "$DB_NAME" >/dev/null || rc=1; }
  "$PY" "$HERE/scratch.py" clear-redis "$REDIS_URL" "$PREFIX" >/dev/null || rc=1
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

PORT="${BENCH_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:$PORT"
# Only the settings below reach the IdP, whatever the calling shell exports (IDP_ENV unset =
# development mode, which generates the first signing keys at start).
while read -r var; do unset "$var"; done < <(compgen -e | grep '^IDP_' || true)
DB_URL="$("$PY" "$HERE/scratch.py" create-db "$PG_URL" "$DB_NAME")"; DB_CREATED=1
export IDP_DATABASE_URL="$DB_URL" IDP_REDIS_URL="$REDIS_URL" IDP_REDIS_PREFIX="$PREFIX"
export IDP_ISSUER="$BASE" IDP_CAPTCHA=off IDP_INSTANCE_DIR="$tmp/instance"
# Seeded codes must outlive the case that redeems them; the IdP's own default is 60 s.
CODE_TTL=$(( DUR + 30 > 60 ? DUR + 30 : 60 )); export IDP_CODE_TTL="$CODE_TTL"

RP=bench-rp; RP_SECRET=bench-secret-0123456789abcdef; REDIRECT="http://127.0.0.1:9/cb"
SVC_RS=bench-svc-rs256; SVC_ES=bench-svc-es256; SVC_SECRET=bench-svc-secret-0123456789abcdef
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
RP_AUTH="$(basic "$RP" "$RP_SECRET")"; RS_AUTH="$(basic "$SVC_RS" "$SVC_SECRET")"; ES_AUTH="$(basic "$SVC_ES" "$SVC_SECRET")"

quiet() {  # run a setup step; show its output only when it fails
  local out; if ! out="$("$@" 2>&1)"; then echo "bench: setup step failed: ${*:1:4} ..." >&2; echo "$out" | tail -5 >&2; exit 1; fi
}
quiet "${IDP[@]}" db upgrade
quiet "${IDP[@]}" client add --client-id "$RP" --secret "$RP_SECRET" --redirect-uri "$REDIRECT" --first-party \
  --grant-type authorization_code --grant-type refresh_token --name "bench relying party"
quiet "${IDP[@]}" client add --client-id "$SVC_RS" --grant-type client_credentials --access-token-alg RS256 --secret "$SVC_SECRET"
quiet "${IDP[@]}" client add --client-id "$SVC_ES" --grant-type client_credentials --access-token-alg ES256 --secret "$SVC_SECRET"
seed() { quiet "$PY" "$HERE/seed.py" "$@" --client-id "$RP"; }

# ---- server ----------------------------------------------------------------------------------
start_server() {  # threads
  setsid "${IDP[@]}" serve --host 127.0.0.1 --port "$PORT" --workers 2 --threads "$1" >"$tmp/server-$1.log" 2>&1 &
  SPID=$!
  for _ in $(seq 300); do
    curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SPID" 2>/dev/null || { echo "bench: the IdP did not start:" >&2; tail -20 "$tmp/server-$1.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fs "$BASE/readyz" >/dev/null || { echo "bench: the IdP is not ready:" >&2; tail -20 "$tmp/server-$1.log" >&2; exit 1; }
  # Both workers must have booted before the clock starts.
  for _ in $(seq 100); do [ "$(grep -c 'Booting worker' "$tmp/server-$1.log")" -ge 2 ] && break; sleep 0.1; done
}

# ---- one correct answer per case before timing, so 2xx in the table means the real thing -----------
fail_check() { echo "bench: $1 preflight failed: $2" >&2; head -c 400 "$tmp/answer" >&2; echo >&2; exit 1; }
call() {  # method path authorization body -> status; body in $tmp/answer
  local args=(-s -o "$tmp/answer" -w '%{http_code}' -X "$1")
  [ "$3" != "-" ] && args+=(-H "Authorization: $3")
  [ "$4" != "-" ] && args+=(-H "Content-Type: application/x-www-form-urlencoded" --data-raw "$4")
  curl "${args[@]}" "$BASE$2"
}
json_field() { "$PY" -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$tmp/answer" "$1"; }
jwt_alg() { "$PY" -c 'import base64, json, sys; h = sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"])' "$1"; }
preflight() {  # case method path authorization body
  local status; status="$(call "$2" "$3" "$4" "$5")"
  [ "$status" = 200 ] || fail_check "$1" "HTTP $status"
  case "$1" in
    discovery) [ "$(json_field issuer)" = "$BASE" ] || fail_check "$1" "issuer" ;;
    jwks) grep -q '"ES256"' "$tmp/answer" || fail_check "$1" "no ES256 key"
          grep -q '"RS256"' "$tmp/answer" || fail_check "$1" "no RS256 key" ;;
    introspect) [ "$(json_field active)" = True ] || fail_check "$1" "token not active" ;;
    userinfo) [ -n "$(json_field sub)" ] || fail_check "$1" "no sub" ;;
    refresh|code)
      [ -n "$(json_field refresh_token)" ] || fail_check "$1" "no refresh_token"
      [ -n "$(json_field id_token)" ] || fail_check "$1" "no id_token" ;;
    cc_jwt_rs256) [ "$(jwt_alg "$(json_field access_token)")" = RS256 ] || fail_check "$1" "not RS256" ;;
    cc_jwt_es256) [ "$(jwt_alg "$(json_field access_token)")" = ES256 ] || fail_check "$1" "not ES256" ;;
  esac
}

# ---- wrk -------------------------------------------------------------------------------------
row() { printf '%-10s %-14s %10s %9s %9s %8s %8s\n' "$@"; }
measure() {  # mode case lua-script script-args...
  local mode="$1" name="$2" script="$3"; shift 3
  local out; out="$(wrk -t"$T" -c"$C" -d"${DUR}s" --latency -s "$script" "$BASE" -- "$@")"
  echo "$out" >"$tmp/wrk-$mode-$name.txt"
  local rps p50 p99 bad sock
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out"); bad=$(awk '/Non-2xx/{print $5}' <<<"$out")
  sock=$(awk '/Socket errors/{gsub(",", ""); print $4+$6+$8+$10}' <<<"$out")
  row "$mode" "$name" "$rps" "$p50" "$p99" "${bad:-0}" "${sock:-0}"
  local usage; usage="$(grep '^one_each:' <<<"$out" || true)"
  if [ -n "$usage" ]; then
    echo "$mode $name $usage" >>"$tmp/usage"
    grep -q 'exhausted threads: 0' <<<"$usage" \
      || echo "bench: $name ran out of seeded bodies; raise BENCH_SEED_RATE (now $SEED_RATE)" >&2
  fi
}
static() { measure "$1" "$2" "$HERE/lua/static.lua" "${@:3}"; }
one_each() {  # mode case bodies-file: the first body is the preflight, wrk gets the rest
  local body; body="$(head -1 "$3")"
  preflight "$2" POST /token "$RP_AUTH" "$body"
  tail -n +2 "$3" >"$3.rest"
  measure "$1" "$2" "$HERE/lua/one_each.lua" /token "$RP_AUTH" "$3.rest" "$T"
}

# Enough for the fastest rate seen plus every connection's last request in flight.
SEED_COUNT=$(( DUR * SEED_RATE + C * 2 + 1 ))
DISCOVERY=/.well-known/openid-configuration
CC_BODY="grant_type=client_credentials"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
describe() { if [ "$1" = 1 ]; then echo "1 (sync worker)"; else echo "$1 (gthread worker)"; fi; }
SWEEP_TEXT=""; for n in $SWEEP; do SWEEP_TEXT="${SWEEP_TEXT:+$SWEEP_TEXT, then }$(describe "$n")"; done
first=1
for threads in $SWEEP; do
  mode=$([ "$threads" = 1 ] && echo sync || echo "gthread$threads")
  if [ "$WAIT_IDLE" -gt 0 ]; then
    echo "$mode $(bash "$HERE/wait_idle.sh" "$WAIT_IDLE" 300 2>&1 >/dev/null)" >>"$tmp/idle"
  fi
  start_server "$threads"
  if [ -n "$first" ]; then
    seed person --out "$tmp/access_token"
    AT="$(head -1 "$tmp/access_token")"
    echo "# $(date -u +%FT%TZ) idp serve --workers 2 --threads $SWEEP_TEXT; wrk -t$T -c$C -d${DUR}s --latency"
    row mode case req/s p50 p99 non2xx sockerr
    first=""
  fi
  wrk -t1 -c8 -d1s "$BASE$DISCOVERY" >/dev/null; wrk -t1 -c8 -d1s "$BASE/jwks" >/dev/null  # warm-up
  preflight discovery GET "$DISCOVERY" - -;            static "$mode" discovery GET "$DISCOVERY"
  preflight jwks GET /jwks - -;                        static "$mode" jwks GET /jwks
  preflight introspect POST /introspect "$RP_AUTH" "token=$AT"
  static "$mode" introspect POST /introspect "$RP_AUTH" "token=$AT"
  preflight userinfo GET /userinfo "Bearer $AT" -;     static "$mode" userinfo GET /userinfo "Bearer $AT"
  seed refresh --count "$SEED_COUNT" --out "$tmp/refresh-$threads"
  one_each "$mode" refresh "$tmp/refresh-$threads"
  preflight cc_jwt_rs256 POST /token "$RS_AUTH" "$CC_BODY"; static "$mode" cc_jwt_rs256 POST /token "$RS_AUTH" "$CC_BODY"
  preflight cc_jwt_es256 POST /token "$ES_AUTH" "$CC_BODY"; static "$mode" cc_jwt_es256 POST /token "$ES_AUTH" "$CC_BODY"
  # Seeded last thing before their case: codes live only IDP_CODE_TTL seconds.
  seed codes --count "$SEED_COUNT" --redirect-uri "$REDIRECT" --out "$tmp/codes-$threads"
  one_each "$mode" code "$tmp/codes-$threads"
  stop_server
  grep -E "Traceback|ERROR|CRITICAL" "$tmp/server-$threads.log" | head -3 || true
done
sed 's/^/# /' "$tmp/usage"
[ -f "$tmp/idle" ] && sed 's/^/# /' "$tmp/idle"
echo "# refresh and code: $SEED_COUNT seeded per case (one refresh-token family / one S256 code each)"
echo "# modes: sync = --threads 1 (gunicorn sync worker), gthreadN = --threads N (gthread worker); 2 workers each; default --threads $(describe "$DEFAULT_THREADS"), BENCH_SERVER_THREADS overrides"
echo "# PostgreSQL $("$PY" "$HERE/scratch.py" version "$PG_URL" "$REDIS_URL"), issuer $BASE, IDP_CAPTCHA=off, IDP_CODE_TTL=$CODE_TTL, other IDP_* at defaults"
echo "# load average (1/5/15 min) before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "# python $("$PY" -c 'import platform; print(platform.python_version())'), wrk -t$T -c$C -d${DUR}s, $(nproc) cores, $(LC_ALL=C lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/, "", $2); print $2; exit}')"
