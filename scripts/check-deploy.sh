#!/usr/bin/env bash
# Validates the deployment recipes (Dockerfile, deploy/) without a container engine, cluster or
# systemd running: files parse and agree with each other, the compose file and the Kubernetes
# manifests are valid against their schemas, the systemd unit passes `systemd-analyze verify`,
# the Dockerfile passes hadolint. Validators are pinned in deploy/requirements-check.txt and
# installed into .venv. Run by scripts/test.sh; a few seconds once installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r deploy/requirements-check.txt
bin=.venv/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT

# (a) Parse every YAML/JSON file; gateway config keys, cross-references, timeouts, hardening.
"$bin/python" scripts/check_deploy.py

# (b) The Compose specification's JSON schema (as shipped by check-jsonschema).
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml

# (b) Kubernetes JSON schemas, strict (unknown fields are errors), for the oldest version the
# manifests support (1.30: preStop `sleep`) and the newest the validator ships.
mapfile -t manifests < <(find deploy/kubernetes -name '*.yaml' | sort)
for version in 1.30.0 1.37.0; do
  "$bin/kubernetes-validate" --strict --quiet -k "$version" "${manifests[@]}"
done
echo "kubernetes-validate: ${#manifests[@]} manifests valid against Kubernetes 1.30 and 1.37"

# (c) systemd. verify checks that ExecStart's binary exists: point it at a stub, the rest of the
# unit unchanged. Warnings (unknown keys, bad values) only print, so any output is a failure.
if command -v systemd-analyze >/dev/null 2>&1; then
  printf '#!/bin/sh\nexit 0\n' >"$work/gateway" && chmod +x "$work/gateway"
  sed "s#/usr/local/bin/gateway#$work/gateway#g" deploy/systemd/llm-gateway.service \
    >"$work/llm-gateway.service"
  out=$(systemd-analyze verify "$work/llm-gateway.service" 2>&1) || { echo "$out"; exit 1; }
  if [ -n "$out" ]; then echo "$out"; echo "systemd-analyze verify: warnings above"; exit 1; fi
  # The sandbox's exposure score (0 = fully sandboxed, 10 = none); fail if it loosens past 2.0.
  if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    systemd-analyze security --offline=true --threshold=20 "$work/llm-gateway.service" >"$work/security.log" 2>&1 \
      || { cat "$work/security.log"; echo "systemd-analyze security: exposure above 2.0"; exit 1; }
    echo "systemd-analyze: unit verified; $(grep -o 'Overall exposure level.*' "$work/security.log")"
  else
    echo "systemd-analyze: unit verified (no --offline security scoring in this version)"
  fi
else
  echo "systemd-analyze: skipped (not installed; Debian package systemd)"
fi

# (d) hadolint, with its default rules.
"$bin/hadolint" --no-color Dockerfile
echo "hadolint $("$bin/hadolint" --version | grep -o '[0-9][0-9.]*' | head -1): Dockerfile ok"

# The gateway's own validation of the configs, once it has `gateway check` (issue 19, part 1)
# and a binary at least as new as the sources (scripts/test.sh's benchmark smoke builds one), or
# the one GATEWAY_BIN names.
gateway=${GATEWAY_BIN:-$(ls -t target/release/gateway target/debug/gateway 2>/dev/null | head -1 || true)}
if [ -n "$gateway" ] && { [ -n "${GATEWAY_BIN:-}" ] || [ -z "$(find src config -newer "$gateway" -print -quit)" ]; } \
  && "$gateway" check --help >/dev/null 2>&1; then
  "$bin/python" - "$work" <<'EOF'
import sys, yaml
work = sys.argv[1]
configmap = yaml.safe_load(open("deploy/kubernetes/configmap.yaml"))
open(f"{work}/k8s-config.yaml", "w").write(configmap["data"]["config.yaml"])
secret = yaml.safe_load(open("deploy/kubernetes/secret/llm-gateway-keys.yaml"))
with open(f"{work}/k8s.env", "w") as env:
    for key, value in secret["stringData"].items():
        env.write(f"{key}={value}\n")
EOF
  "$gateway" check --config deploy/config.fleet.yaml >"$work/check.log" 2>&1 \
    || { cat "$work/check.log"; echo "gateway check: deploy/config.fleet.yaml is invalid"; exit 1; }
  env $(cat "$work/k8s.env") "$gateway" check --config "$work/k8s-config.yaml" >"$work/check.log" 2>&1 \
    || { cat "$work/check.log"; echo "gateway check: the ConfigMap's config is invalid"; exit 1; }
  echo "gateway check: deploy/config.fleet.yaml and the ConfigMap's config are valid"
else
  echo "gateway check: skipped (no gateway binary with \`check\`, newer than the sources)"
fi
echo "scripts/check-deploy.sh: ok"
