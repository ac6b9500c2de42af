#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit + integration tests (with the official OpenAI
# Python SDK and the Codex CLI as clients). Installs what it needs; safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
export GATEWAY_TEST_PYTHON="$PWD/.venv/bin/python"

# The real Codex CLI (tests/codex_cli.rs) and Vercel AI SDK (tests/ai_sdk.rs), pinned by
# tests/agents/package-lock.json (npm registry).
# `npm ci` runs only when the lock changed since the last install (its hash is kept in node_modules).
lock_hash=$(sha256sum tests/agents/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/agents/node_modules/.lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  (cd tests/agents && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >tests/agents/node_modules/.lock-sha256
fi

# The Redis-store tests use the machine's Redis on 127.0.0.1:6379; start one if it is not up.
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    sleep 1
  fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# A few-second smoke of the benchmark harness (load/), so it never rots; needs wrk and nginx.
if command -v wrk >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1; then
  load/bench.sh --smoke >target/bench-smoke.log 2>&1 || { cat target/bench-smoke.log; exit 1; }
  echo "load/bench.sh --smoke: ok"
else
  echo "load/bench.sh --smoke: skipped (install the Debian packages wrk and nginx to run it)"
fi
scripts/check-deploy.sh   # Dockerfile + deploy/: schemas, systemd-analyze, hadolint (deploy/README.md)

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
