# shellcheck shell=bash
# What load/bench.sh and load/ab.sh share (sourced, not run): the gateway's benchmark config, the
# environment it starts in, the request bodies, the wrk reporter and the port checks, so an A/B
# run measures the configuration the benchmark table does.

# The gateway sees no provider keys from the calling shell (they would add providers or override ours).
GATEWAY_ENV=(env -u OPENAI_API_KEY -u AZURE_OPENAI_API_KEY -u AZURE_OPENAI_ENDPOINT
  -u AZURE_OPENAI_DEPLOYMENT_ID -u ANTHROPIC_API_KEY -u GOOGLE_API_KEY -u RUST_LOG -u GATEWAY_CONFIG)

# POST /v1/responses bodies through the gateway, per path.
GW_OA='{"model":"gpt-4o-mini","input":"Hello!"}'
GW_AN='{"model":"claude-sonnet-4-5","input":"Hello!"}'
streaming() { printf '%s' "${1%\}},\"stream\":true}"; }

gateway_yaml() { # file upstream_port listen_port [openai_extra] [tail]
  cat >"$1" <<EOF
server:
  address: "127.0.0.1:$3"
  shutdown_timeout: "1s"
  shutdown_delay: "0s"
providers:
  openai:
    api_key: "bench-key"
    base_url: "http://127.0.0.1:$2/v1"
    max_concurrency: 20000
    max_queue: 20000
${4:-}
  anthropic:
    api_key: "bench-key"
    base_url: "http://127.0.0.1:$2"
    max_concurrency: 20000
    max_queue: 20000
log:
  level: "info"
${5:-}
EOF
}

lua_for() { # file body [authorization]: a wrk script POSTing body, ending with one RESULT line
  local auth=""
  if [ -n "${3:-}" ]; then auth="wrk.headers[\"Authorization\"] = \"$3\""; fi
  cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = [[$2]]
wrk.headers["Content-Type"] = "application/json"
$auth
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT p50=%d p90=%d p99=%d max=%d rps=%d requests=%d errors=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout))
end
EOF
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port: up to 10 s for something to listen, else the caller's die
  local i
  for i in $(seq 1 1000); do answers "$1" && return 0; sleep 0.01; done
  die "nothing listens on port $1 (logs in $OUT)"
}
