#!/usr/bin/env bash
# llm-gateway benchmark: the gateway side by side with its baselines in one run, one table.
#
#   load/bench.sh            full run (about 9 minutes after the build; release build)
#   load/bench.sh --table    re-print the last run's table (target/bench/latest.kv)
#   load/bench.sh --smoke    tiny counts, ~6 s after the build (debug build), for CI: every
#                            component and path once (wrk: OpenAI path, 1 connection only)
#
# Baselines: "direct" = the load sent straight to the mock upstream (load/, `bench-mock`);
# "nginx" = the same load through an nginx `proxy_pass` to the mock (the bare cost of a proxy
# hop); "gateway" = POST /v1/responses through the gateway, translated to the OpenAI Responses or
# Anthropic Messages wire format and back. Scenarios (see BENCHMARKS.md):
#   (a) non-streaming, 1 connection: latency p50/p99 (wrk)     (b) 64 connections: req/s, p99 (wrk)
#   (c) streaming: time to first token, per-chunk latency (bench-driver stream)
#   (d) ~10,000 concurrent slow streams held >= 30 s: errors, peak RSS (bench-driver hold)
#   (e) startup time to listening, idle RSS, stripped binary size (bench-driver startup)
#   (f) 64 connections, OpenAI path, the gateway as users configure it, each variant a ratio to
#       the plain gateway in the same run (interleaved, two rounds): static-key auth on; fleet
#       provider limits on (Redis at 127.0.0.1:6379, leased); a caller quota in the fleet (one
#       Redis call per request); `store: false` (no conversation store write)
#
# Needs cargo and the Debian packages `wrk` and `nginx` (apt-get install -y wrk nginx); installs
# nothing. Listens on 127.0.0.1 only (ports BENCH_PORT_BASE..+5, default 18400..18405), stops
# everything it started on exit, and keeps its logs and results in target/bench/.
# Knobs (environment): BENCH_DURATION (s per wrk run), BENCH_HOLD_STREAMS, BENCH_PROFILE
# (release|debug), BENCH_PORT_BASE.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
case "${1:-}" in
  --smoke) SMOKE=1 ;;
  --table) # re-print the last run's table from its raw figures
    declare -A R
    while IFS='=' read -r key value; do R[$key]=$value; done <target/bench/latest.kv
    source load/table.sh
    print_table
    exit 0 ;;
  "") ;;
  *) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

if [ "$SMOKE" = 1 ]; then
  PROFILE=${BENCH_PROFILE:-debug}; DURATION=${BENCH_DURATION:-1}; WARMUP_S=0
  STREAMS=5; STREAM_WARMUP=1; CHUNKS=3; INTERVAL_MS=1; WRK_PATHS="openai"; SCENARIOS="a"; ROUNDS=1
  HOLD=${BENCH_HOLD_STREAMS:-50}; HOLD_CHUNKS=2; HOLD_INTERVAL_MS=100; RAMP=0.2
  STARTS=1; IDLE_MS=200
else
  PROFILE=${BENCH_PROFILE:-release}; DURATION=${BENCH_DURATION:-10}; WARMUP_S=1
  STREAMS=200; STREAM_WARMUP=20; CHUNKS=10; INTERVAL_MS=2; WRK_PATHS="openai anthropic"; SCENARIOS="a b"; ROUNDS=2
  HOLD=${BENCH_HOLD_STREAMS:-10000}; HOLD_CHUNKS=42; HOLD_INTERVAL_MS=1000; RAMP=8
  STARTS=5; IDLE_MS=1000
fi

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
source load/common.sh

missing=()
for tool in wrk nginx cargo; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}. Install with: sudo apt-get install -y wrk nginx (cargo: rustup.rs)"
fi

log "Building ($PROFILE): gateway + bench binaries."
if [ "$PROFILE" = release ]; then
  cargo build --release --locked -p llm-gateway -p gateway-bench --bins
  BIN=${CARGO_TARGET_DIR:-target}/release
else
  cargo build --locked -p llm-gateway -p gateway-bench --bins
  BIN=${CARGO_TARGET_DIR:-target}/debug
fi

OUT=target/bench
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  cp -r "$WORK"/*.log "$WORK"/*.yaml "$WORK"/nginx "$OUT"/ 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each proxied stream holds two sockets (client + upstream); raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
if [ "$HOLD" -gt $(((NOFILE - 100) / 2)) ]; then
  log "NOTE: open-file limit $NOFILE allows $(((NOFILE - 100) / 2)) proxied streams, not $HOLD."
  HOLD=$(((NOFILE - 100) / 2))
fi

BASE=${BENCH_PORT_BASE:-18400}
MOCK=$BASE SLOW=$((BASE + 1)) NGX=$((BASE + 2)) NGX_SLOW=$((BASE + 3)) GW=$((BASE + 4)) GW_START=$((BASE + 5))
for port in $MOCK $SLOW $NGX $NGX_SLOW $GW $GW_START; do
  if answers "$port"; then die "port $port is in use; set BENCH_PORT_BASE"; fi
done
start() { # name command… ; sets LAST_PID
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
stop() { # pid: stopped now, and no longer signalled on exit (the pid may be reused by then)
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  PIDS=("${kept[@]}")
}
kb() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A R
record() { # prefix "k=v k=v …"
  local kv
  for kv in $2; do R["$1.${kv%%=*}"]=${kv#*=}; done
}

# --- configuration -------------------------------------------------------------------------
gateway_config() { # file upstream_port listen_port [variant]
  local openai_extra="" tail=""
  case ${4:-plain} in
    auth) tail=$AUTH_YAML ;;
    fleet) openai_extra="    rpm: 6000000
    tpm: 600000000"; tail=$FLEET_YAML ;;
    quota) tail="$AUTH_YAML$FLEET_YAML
quotas:
  api_keys: { bench: { rpm: 100000000 } }" ;;
  esac
  gateway_yaml "$1" "$2" "$3" "$openai_extra" "$tail"
}
BENCH_KEY=sk-bench-0123456789abcdef
AUTH_YAML="
auth:
  enabled: true
  api_keys: [{ name: bench, key: \"$BENCH_KEY\" }]"
REDIS_PREFIX="llm-gateway-bench-$$:"
FLEET_YAML="
redis:
  url: \"redis://127.0.0.1:6379\"
  key_prefix: \"$REDIS_PREFIX\"
conversations:
  store: memory"
start_gateway() { # upstream_port [variant]
  gateway_config "$WORK/gateway.yaml" "$1" "$GW" "${2:-plain}"
  start gateway "${GATEWAY_ENV[@]}" "$BIN/gateway" --config "$WORK/gateway.yaml"
  GW_PID=$LAST_PID
  wait_port "$GW"
}

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
worker_rlimit_nofile $NOFILE;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections $((NOFILE - 100)); }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream mock { server 127.0.0.1:$MOCK; keepalive 256; }
  upstream slow { server 127.0.0.1:$SLOW; keepalive 256; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_buffering off;
  proxy_read_timeout 300s;
  server { listen 127.0.0.1:$NGX reuseport; location / { proxy_pass http://mock; } }
  server { listen 127.0.0.1:$NGX_SLOW reuseport; location / { proxy_pass http://slow; } }
}
EOF

# Request bodies: the provider's own format for direct/nginx (the gateway's, GW_OA and GW_AN, are
# Open Responses, in load/common.sh).
OA_PATH=/v1/responses
OA_BODY='{"model":"gpt-4o-mini","input":"Hello!"}'
AN_PATH=/v1/messages
AN_BODY='{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello!"}]}'
target_url() { # target path fast|slow
  local direct=$MOCK nginx=$NGX
  if [ "$3" = slow ]; then direct=$SLOW nginx=$NGX_SLOW; fi
  case $1 in
    direct) echo "http://127.0.0.1:$direct$2" ;;
    nginx) echo "http://127.0.0.1:$nginx$2" ;;
    gw) echo "http://127.0.0.1:$GW/v1/responses" ;;
  esac
}
body_for() { # target path(openai|anthropic)
  case $1/$2 in
    gw/openai) echo "$GW_OA" ;; gw/anthropic) echo "$GW_AN" ;;
    */openai) echo "$OA_BODY" ;; */anthropic) echo "$AN_BODY" ;;
  esac
}
path_for() { [ "$1" = openai ] && echo "$OA_PATH" || echo "$AN_PATH"; }

wrk_run() { # key conns url lua
  local threads=1 out
  [ "$2" -gt 1 ] && threads=2
  if [ "$WARMUP_S" -gt 0 ]; then wrk -t"$threads" -c"$2" -d"${WARMUP_S}s" -s "$4" "$3" >/dev/null 2>&1 || true; fi
  out=$(wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency -s "$4" "$3" 2>&1) || die "wrk failed: $out"
  printf '### %s\n%s\n\n' "$1" "$out" >>"$WORK/wrk.log"
  record "$1" "$(sed -n 's/^RESULT //p' <<<"$out")"
  [ -n "${R[$1.requests]:-}" ] || die "wrk printed no result for $1"
}
driver() { "$BIN/bench-driver" "$@" 2>>"$WORK/driver.log" || die "bench-driver $1 failed (see $OUT/driver.log)"; }

# --- (e) startup and idle RSS of fresh processes --------------------------------------------
gateway_config "$WORK/startup.yaml" "$MOCK" "$GW_START"
log "(e) Startup to listening, ${STARTS}x."
record e.gw "$(driver startup --addr "127.0.0.1:$GW_START" --runs "$STARTS" --idle-ms "$IDLE_MS" \
  -- "${GATEWAY_ENV[@]}" "$BIN/gateway" --config "$WORK/startup.yaml")"

# --- upstreams and proxies -----------------------------------------------------------------
start mock "$BIN/bench-mock" --listen "127.0.0.1:$MOCK" --chunks "$CHUNKS" --interval-ms "$INTERVAL_MS"
start mock-slow "$BIN/bench-mock" --listen "127.0.0.1:$SLOW" --chunks "$HOLD_CHUNKS" --interval-ms "$HOLD_INTERVAL_MS"
start nginx nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
NGX_PID=$LAST_PID
wait_port "$MOCK"; wait_port "$SLOW"; wait_port "$NGX"; wait_port "$NGX_SLOW"
sleep 0.3
mapfile -t NGX_PIDS < <(echo "$NGX_PID"; pgrep -P "$NGX_PID")
R[e.nginx.idle_rss_kb]=$(for p in "${NGX_PIDS[@]}"; do kb "$p" VmRSS; done | awk '{ s += $1 } END { print s }')
start_gateway "$MOCK"

# --- (a) 1 connection, (b) 64 connections -------------------------------------------------
for scenario in $SCENARIOS; do
  conns=1; [ $scenario = b ] && conns=64
  for path in $WRK_PATHS; do
    for target in direct nginx gw; do
      lua="$WORK/$target-$path.lua"
      lua_for "$lua" "$(body_for $target $path)"
      log "($scenario) $conns conn, $path, $target: ${DURATION}s."
      wrk_run "$scenario.$target.$path" "$conns" "$(target_url $target "$(path_for $path)" fast)" "$lua"
    done
  done
done

# --- (c) streaming: TTFT and per-chunk latency ---------------------------------------------
for path in openai anthropic; do
  for target in direct nginx gw; do
    log "(c) $STREAMS streams of $CHUNKS chunks, $path, $target."
    record "c.$target.$path" "$(driver stream --url "$(target_url $target "$(path_for $path)" fast)" \
      --body "$(streaming "$(body_for $target $path)")" --streams "$STREAMS" \
      --warmup "$STREAM_WARMUP" --chunks "$CHUNKS")"
  done
done
R[e.gw.loaded_rss_kb]=$(kb "$GW_PID" VmRSS)
stop "$GW_PID"

# --- (f) the gateway as configured in production: variants against the plain gateway -------
VARIANTS="plain auth nostore"
if redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  VARIANTS="$VARIANTS fleet quota"
else
  log "(f) no Redis at 127.0.0.1:6379: the fleet and quota variants are skipped."
fi
for round in $(seq 1 "$ROUNDS"); do
  for variant in $VARIANTS; do
    body=$GW_OA auth=""
    [ "$variant" = nostore ] && body='{"model":"gpt-4o-mini","input":"Hello!","store":false}'
    case $variant in auth | quota) auth="Bearer $BENCH_KEY" ;; esac
    lua_for "$WORK/f-$variant.lua" "$body" "$auth"
    start_gateway "$MOCK" "$([ "$variant" = nostore ] && echo plain || echo "$variant")"
    log "(f) round $round, 64 conns, openai, $variant: ${DURATION}s."
    wrk_run "f$round.$variant" 64 "$(target_url gw "$OA_PATH" fast)" "$WORK/f-$variant.lua"
    stop "$GW_PID"
  done
done
if [[ " $VARIANTS " == *" fleet "* ]]; then
  redis-cli -h 127.0.0.1 --scan --pattern "$REDIS_PREFIX*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null
fi

# --- (d) many concurrent slow streams ------------------------------------------------------
DEADLINE=$(awk -v r="$RAMP" -v c="$HOLD_CHUNKS" -v i="$HOLD_INTERVAL_MS" 'BEGIN { print r + c * i / 1000 + 30 }')
hold() { # key url body pids…
  local key=$1 url=$2 body=$3; shift 3
  local pids=(); for p in "$@"; do pids+=(--pid "$p"); done
  record "$key" "$(driver hold --url "$url" --body "$body" --streams "$HOLD" --ramp-secs "$RAMP" \
    --chunks "$HOLD_CHUNKS" --deadline-secs "$DEADLINE" "${pids[@]}")"
}
for path in openai anthropic; do
  log "(d) $HOLD streams x $HOLD_CHUNKS chunks every ${HOLD_INTERVAL_MS} ms, $path, gateway (fresh)."
  start_gateway "$SLOW"
  hold "d.gw.$path" "$(target_url gw "" slow)" "$(streaming "$(body_for gw $path)")" "$GW_PID"
  stop "$GW_PID"
done
log "(d) $HOLD streams, openai, nginx."
hold d.nginx.openai "$(target_url nginx "$OA_PATH" slow)" "$(streaming "$OA_BODY")" "${NGX_PIDS[@]}"

R[e.gw.binary_bytes]=$(stat -c %s "$BIN/gateway")

# --- the table ------------------------------------------------------------------------------
source load/table.sh
{
  echo "llm-gateway benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+dirty'), profile $PROFILE$([ "$SMOKE" = 1 ] && echo ', SMOKE (figures meaningless)')"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -h | awk '/^Mem:/ { print $2 }') RAM; wrk ${DURATION}s runs; $(nginx -v 2>&1 | cut -d' ' -f3)"
  echo
  print_table
} | tee "$OUT/latest.md"
for key in "${!R[@]}"; do echo "$key=${R[$key]}"; done | sort >"$OUT/latest.kv"
if [ "$FAILED" -gt 0 ]; then die "$FAILED run(s) had errors (see the table and $OUT)"; fi
