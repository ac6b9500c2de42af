# Sourced by load/bench.sh: turns the results in R[…] into one Markdown table, checks the
# targets of issue 8, and counts runs with errors in FAILED.

FAILED=0
calc() { awk "BEGIN { printf \"%.${2:-0}f\", $1 }"; }
mib() { calc "${1:-0} / 1024" 1; }
row() { printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }

# verdict VALUE OP LIMIT UNIT: "holds" or "MISSES by …".
verdict() {
  local v=$1 op=$2 limit=$3 unit=$4 ok
  ok=$(awk -v v="$v" -v l="$limit" -v op="$op" 'BEGIN { print (op == "<=" ? v <= l : v >= l) ? 1 : 0 }')
  if [ "$ok" = 1 ]; then echo "holds"; else
    echo "MISSES by $(awk -v v="$v" -v l="$limit" \
      'BEGIN { d = v - l; if (d < 0) d = -d; printf (d >= 100 ? "%.0f" : "%.3g"), d }')$unit"
  fi
}

# Latency-like figure (µs, lower is better), target on the gateway's added value.
latency_row() { # scenario path key label target_added
  local s=$1 p=$2 k=$3 d n g target=""
  [ -n "${R[$s.gw.$p.$k]:-}" ] || return 0
  d=${R[$s.direct.$p.$k]:-0} n=${R[$s.nginx.$p.$k]:-0} g=${R[$s.gw.$p.$k]:-0}
  if [ -n "${5:-}" ]; then target="added ≤ $5 µs: $(verdict $((g - d)) '<=' "$5" ' µs')"; fi
  row "$s" "$4" "$p" "$d" "$n" "$g" "$((g - d))" "$((n - d))" "$(calc "$g / ($n > 0 ? $n : 1)" 2)" "$target"
}

throughput_row() { # path
  local p=$1 d n g ratio
  [ -n "${R[b.gw.$p.rps]:-}" ] || return 0
  d=${R[b.direct.$p.rps]:-0} n=${R[b.nginx.$p.rps]:-0} g=${R[b.gw.$p.rps]:-0}
  ratio=$(calc "$g / ($n > 0 ? $n : 1)" 2)
  row b "req/s, 64 conns" "$p" "$d" "$n" "$g" "–" "–" "$ratio" \
    "≥ 0.60 × nginx: $(verdict "$ratio" '>=' 0.60 '')"
}

streams_rows() { # path
  local p=$1 g_err n_err g_rss n_rss
  g_err=${R[d.gw.$p.errors]:-?} n_err=${R[d.nginx.openai.errors]:-?}
  g_rss=${R[d.gw.$p.hwm_kb]:-0} n_rss=${R[d.nginx.openai.rss_peak_kb]:-0}
  row d "errors, ${R[d.gw.$p.streams]:-?} streams" "$p" "–" "$n_err" "$g_err" "–" "–" "–" \
    "0: $(verdict "$g_err" '<=' 0 '')"
  row d "all open at once (s)" "$p" "–" "$(calc "${R[d.nginx.openai.held_ms]:-0} / 1000" 1)" \
    "$(calc "${R[d.gw.$p.held_ms]:-0} / 1000" 1)" "–" "–" "–" "≥ 30 s: $(verdict \
    "$(calc "${R[d.gw.$p.held_ms]:-0} / 1000" 1)" '>=' 30 ' s')"
  row d "peak RSS (MiB)" "$p" "–" "$(mib "$n_rss")" "$(mib "$g_rss")" "–" "–" \
    "$(calc "$g_rss / ($n_rss > 0 ? $n_rss : 1)" 2)" "≤ 300 MiB: $(verdict "$(mib "$g_rss")" '<=' 300 ' MiB')"
  local n_per g_per streams=${R[d.gw.$p.streams]:-1}
  n_per=$(calc "(${n_rss} - ${R[d.nginx.openai.rss_start_kb]:-0}) / $streams" 1)
  g_per=$(calc "(${g_rss} - ${R[d.gw.$p.rss_start_kb]:-0}) / $streams" 1)
  row d "RSS per stream (KiB)" "$p" "–" "$n_per" "$g_per" "–" "–" "$(calc "$g_per / ($n_per > 0 ? $n_per : 1)" 2)" \
    "≤ $(calc "(300 * 1024 - ${R[d.gw.$p.rss_start_kb]:-0}) / 10000" 1) KiB for 10k in 300 MiB"
}

# The sum of R[f<round>.$1.rps] over the rounds.
variant_sum() {
  local k
  for k in "${!R[@]}"; do if [[ $k == f*."$1".rps ]]; then echo "${R[$k]}"; fi; done |
    awk '{ s += $1 } END { print s + 0 }'
}

# (f): each variant's req/s summed over the rounds, as a ratio to the plain gateway's.
variant_rows() {
  local v sum plain ratio target label
  plain=$(variant_sum plain)
  [ "$plain" != 0 ] || return 0
  row f "req/s, 64 conns, plain gateway, sum of rounds (ratio column: ÷ plain)" openai "–" "–" "$plain" "–" "–" "1.00" ""
  for v in auth nostore fleet quota; do
    sum=$(variant_sum "$v")
    [ "$sum" != 0 ] || continue
    ratio=$(calc "$sum / $plain" 2) target=""
    case $v in
      auth) label="… with static-key auth" ;;
      nostore) label="… with store: false" ;;
      fleet) label="… with fleet provider limits (Redis)"
        target="≥ 0.90 × plain: $(verdict "$ratio" '>=' 0.90 '')" ;;
      quota) label="… with a fleet caller quota (Redis per request)" ;;
    esac
    row f "$label" openai "–" "–" "$sum" "–" "–" "$ratio" "$target"
  done
}

count_failures() {
  local key
  for key in "${!R[@]}"; do
    case $key in
      *.errors) if [ "${R[$key]}" != 0 ]; then FAILED=$((FAILED + 1)); fi ;;
      *.requests) if [ "${R[$key]}" = 0 ]; then FAILED=$((FAILED + 1)); fi ;;
    esac
  done
}

print_table() {
  local p startup_ms idle
  echo "| | metric | path | direct | nginx | gateway | gateway − direct | nginx − direct | gateway ÷ nginx | target |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|"
  for p in openai anthropic; do latency_row a "$p" p50 "latency p50 (µs), 1 conn" 60; done
  for p in openai anthropic; do latency_row a "$p" p99 "latency p99 (µs), 1 conn" 150; done
  for p in openai anthropic; do throughput_row "$p"; done
  for p in openai anthropic; do latency_row b "$p" p99 "latency p99 (µs), 64 conns"; done
  for p in openai anthropic; do latency_row c "$p" ttft_p50 "TTFT p50 (µs)" 300; done
  for p in openai anthropic; do latency_row c "$p" ttft_p99 "TTFT p99 (µs)"; done
  for p in openai anthropic; do latency_row c "$p" chunk_p50 "per-chunk p50 (µs)" 50; done
  for p in openai anthropic; do latency_row c "$p" chunk_p99 "per-chunk p99 (µs)"; done
  for p in openai anthropic; do streams_rows "$p"; done
  variant_rows
  startup_ms=$(calc "${R[e.gw.startup_p50_us]:-0} / 1000" 1)
  row e "startup to listening (ms, p50 of ${R[e.gw.runs]:-?})" "–" "–" "–" "$startup_ms" "–" "–" "–" \
    "≤ 100 ms: $(verdict "$startup_ms" '<=' 100 ' ms')"
  idle=$(mib "${R[e.gw.idle_rss_kb]:-0}")
  row e "idle RSS (MiB), fresh" "–" "–" "$(mib "${R[e.nginx.idle_rss_kb]:-0}")" "$idle" "–" "–" \
    "$(calc "${R[e.gw.idle_rss_kb]:-0} / (${R[e.nginx.idle_rss_kb]:-0} > 0 ? ${R[e.nginx.idle_rss_kb]:-0} : 1)" 2)" \
    "≤ 20 MiB: $(verdict "$idle" '<=' 20 ' MiB')"
  row e "RSS after (a)–(c) (MiB)" "–" "–" "–" "$(mib "${R[e.gw.loaded_rss_kb]:-0}")" "–" "–" "–" ""
  row e "stripped binary (MB)" "–" "–" "–" "$(calc "${R[e.gw.binary_bytes]:-0} / 1000000" 1)" "–" "–" "–" \
    "≤ 25 MB: $(verdict "$(calc "${R[e.gw.binary_bytes]:-0} / 1000000" 1)" '<=' 25 ' MB')"
  count_failures
  echo
  if [ "$FAILED" -gt 0 ]; then
    echo "Runs with errors or no requests: $FAILED. Error counts per run:"
    for key in $(printf '%s\n' "${!R[@]}" | grep '\.errors$' | sort); do echo "  $key=${R[$key]}"; done
  else
    echo "Every run completed without errors."
  fi
}
