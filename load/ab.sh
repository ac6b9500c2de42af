#!/usr/bin/env bash
# Interleaved A/B of two gateway binaries against one bench-mock (issue 21): A B A B …, each run a
# fresh gateway process with load/bench.sh's plain config, medians per metric and the ratio B ÷ A.
#
#   load/ab.sh BIN_A BIN_B [ROUNDS]    e.g. load/ab.sh /tmp/ab/gateway-A /tmp/ab/gateway-B 4
#
# Per gateway run and path (OpenAI, Anthropic): `wrk -t2 -c64` (req/s, p99, the gateway's CPU per
# request), `wrk -t1 -c1` (p50), `bench-driver stream` (TTFT and per-chunk p50, the gateway's CPU
# per stream of 10 chunks). CPU comes from the threads' /proc/<pid>/task/*/schedstat.
# bench-mock and bench-driver come from $BENCH_BIN (default target/release, or
# $CARGO_TARGET_DIR/release). Knobs: AB_DURATION (s per wrk run, default 5), AB_PATHS (default
# "openai anthropic"), AB_STREAMS (streams per driver run, default 100; 0 = skip),
# BENCH_PORT_BASE (default 18400; uses +0 and +4). Needs wrk. Raw figures: target/ab/raw.kv.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "ab: $*" >&2; exit 1; }
source load/common.sh

[ $# -ge 2 ] || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
A=$(realpath "$1") B=$(realpath "$2") ROUNDS=${3:-3}
DURATION=${AB_DURATION:-5} PATHS=${AB_PATHS:-openai anthropic} STREAMS=${AB_STREAMS:-100}
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release}
BASE=${BENCH_PORT_BASE:-18400}
MOCK=$BASE GW=$((BASE + 4))
for f in "$A" "$B" "$BIN/bench-mock" "$BIN/bench-driver"; do [ -x "$f" ] || die "no $f"; done
command -v wrk >/dev/null || die "needs wrk (apt-get install -y wrk)"
for path in $PATHS; do
  case $path in openai | anthropic) ;; *) die "AB_PATHS: $path is neither openai nor anthropic" ;; esac
done

OUT=target/ab WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-ab.XXXXXX")
mkdir -p "$OUT"; : >"$OUT/raw.kv"
MOCK_PID="" GW_PID=""
cleanup() { # stops what is still running (a gateway already stopped is not signalled again), keeps the logs
  local pid
  for pid in $GW_PID $MOCK_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  cp "$WORK"/*.log "$OUT"/ 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for port in $MOCK $GW; do if answers "$port"; then die "port $port in use; set BENCH_PORT_BASE"; fi; done
ulimit -n "$(ulimit -Hn)"

gateway_yaml "$WORK/gateway.yaml" "$MOCK" "$GW"
body() { [ "$1" = openai ] && echo "$GW_OA" || echo "$GW_AN"; }
for path in $PATHS; do lua_for "$WORK/$path.lua" "$(body "$path")"; done

"$BIN/bench-mock" --listen "127.0.0.1:$MOCK" --chunks 10 --interval-ms 2 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
wait_port "$MOCK"
# CPU time of the process's live threads, in ns (schedstat: finer than /proc/<pid>/stat's ticks).
ticks() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }
kv() { sed -n 's/^RESULT //p' <<<"$1" | tr ' ' '\n' | grep -E "^($2)=" || true; }
emit() { # variant path metric value
  echo "$1 $2 $3 $4" >>"$OUT/raw.kv"
}

run_one() { # variant binary round
  local variant=$1 bin=$2 pid out t0 t1 reqs
  "${GATEWAY_ENV[@]}" "$bin" --config "$WORK/gateway.yaml" >"$WORK/gw-$variant-$3.log" 2>&1 &
  pid=$!; GW_PID=$pid
  wait_port "$GW"
  for path in $PATHS; do
    local url="http://127.0.0.1:$GW/v1/responses"
    wrk -t2 -c64 -d1s -s "$WORK/$path.lua" "$url" >/dev/null 2>&1 || true
    t0=$(ticks "$pid")
    out=$(wrk -t2 -c64 -d"${DURATION}s" -s "$WORK/$path.lua" "$url" 2>&1)
    t1=$(ticks "$pid")
    reqs=$(kv "$out" requests | cut -d= -f2)
    emit "$variant" "$path" rps_64 "$(kv "$out" rps | cut -d= -f2)"
    emit "$variant" "$path" p99_64_us "$(kv "$out" p99 | cut -d= -f2)"
    emit "$variant" "$path" cpu_us_per_req "$(awk -v t=$((t1 - t0)) -v n="${reqs:-1}" 'BEGIN { printf "%.1f", t / 1e3 / n }')"
    emit "$variant" "$path" errors_64 "$(kv "$out" errors | cut -d= -f2)"
    out=$(wrk -t1 -c1 -d"${DURATION}s" -s "$WORK/$path.lua" "$url" 2>&1)
    emit "$variant" "$path" p50_1_us "$(kv "$out" p50 | cut -d= -f2)"
    if [ "$STREAMS" -gt 0 ]; then
      t0=$(ticks "$pid")
      out=$("$BIN/bench-driver" stream --url "$url" --body "$(streaming "$(body "$path")")" \
        --streams "$STREAMS" --warmup 10 --chunks 10 2>>"$WORK/driver.log")
      t1=$(ticks "$pid")
      emit "$variant" "$path" stream_cpu_us "$(awk -v t=$((t1 - t0)) -v n="$((STREAMS + 10))" 'BEGIN { printf "%.1f", t / 1e3 / n }')"
      for m in ttft_p50 chunk_p50 errors; do
        emit "$variant" "$path" "stream_${m}" "$(tr ' ' '\n' <<<"$out" | sed -n "s/^$m=//p")"
      done
    fi
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  GW_PID=""
}

for round in $(seq 1 "$ROUNDS"); do
  echo "[ab $(date +%T)] round $round/$ROUNDS: A" >&2; run_one A "$A" "$round"
  echo "[ab $(date +%T)] round $round/$ROUNDS: B" >&2; run_one B "$B" "$round"
done

echo "A = $A"
echo "B = $B"
echo "$ROUNDS interleaved rounds, ${DURATION}s wrk runs, medians (ratio = B / A)"
printf '%-10s %-16s %12s %12s %8s   %s\n' path metric A B ratio "A runs | B runs"
awk '
  { v[$2 " " $3 " " $1] = v[$2 " " $3 " " $1] " " $4; if (!(($2 " " $3) in seen)) { seen[$2 " " $3] = 1; order[n++] = $2 " " $3 } }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    for (i = 0; i < n; i++) {
      key = order[i]; split(key, pm, " "); ma = median(v[key " A"]); mb = median(v[key " B"])
      printf "%-10s %-16s %12s %12s %8s  %s |%s\n", pm[1], pm[2], ma, mb, (ma + 0 ? sprintf("%.3f", mb / ma) : "-"), v[key " A"], v[key " B"]
    }
  }' "$OUT/raw.kv" | tee "$OUT/summary.txt"
