#!/usr/bin/env python3
"""What the schemas cannot see in deploy/ (run by scripts/check-deploy.sh, after which the
Compose, Kubernetes, systemd and Dockerfile validators run):

1. every YAML/JSON file under deploy/ parses;
2. the gateway configs (deploy/config.fleet.yaml, the ConfigMap's config.yaml) use only keys the
   gateway's config structs (src/config/*.rs, `Raw*`) have, and every ${VAR} they need is set;
3. the files agree with each other: names, labels, ports, Prometheus targets, and stop timeouts
   long enough for the gateway's drain (shutdown_timeout + close margin + trace export);
4. the hardening the recipes promise is there (probes, securityContext, systemd sandbox,
   non-root multi-stage Dockerfile), so a later edit cannot drop it silently.
Exits 1 listing every problem.
"""

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
problems = []


def fail(where, message):
    problems.append(f"{where}: {message}")


def rel(path):
    return path.relative_to(ROOT)


def seconds(text):
    """'30s', '1m30s', '500ms', 45 -> seconds (the humantime subset the recipes use)."""
    if isinstance(text, (int, float)):
        return float(text)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)", str(text))
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s", "", str(text)):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def constant(path, name, default):
    """A `Duration::from_secs(N)` constant from the gateway's source, so the budget follows it."""
    match = re.search(rf"{name}: Duration = Duration::from_secs\((\d+)\)", (ROOT / path).read_text())
    if not match:
        print(f"check_deploy: warning: {name} not found in {path}; assuming {default} s")
        return default
    return int(match.group(1))


# What the gateway needs after SIGTERM beyond shutdown_timeout: actix's close margin, then the
# last OTLP export when the tracer drops.
EXTRA = constant("src/engine/drain.rs", "CLOSE_MARGIN", 5) + constant(
    "src/telemetry/mod.rs", "EXPORT_TIMEOUT", 5
)
# server.shutdown_delay (still serving after SIGTERM) comes first, in gateways that have it.
_delay = re.search(
    r"DEFAULT_SHUTDOWN_DELAY: Duration = Duration::from_secs\((\d+)\)",
    (ROOT / "src/config/validate.rs").read_text(),
)
DEFAULT_DELAY = int(_delay.group(1)) if _delay else 0


# 1. Everything parses.
docs = {}
for path in sorted(DEPLOY.rglob("*")):
    try:
        if path.suffix in (".yaml", ".yml"):
            docs[path] = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        elif path.suffix == ".json":
            docs[path] = [json.loads(path.read_text())]
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        fail(rel(path), f"does not parse: {err}")
if problems:  # nothing below makes sense on files that do not parse
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)


# 2. Gateway configs against the config structs.
def raw_structs():
    """`pub struct Raw*` -> {yaml key: rust type}, read from src/config (serde renames applied)."""
    structs = {}
    for source in (ROOT / "src/config").rglob("*.rs"):
        for match in re.finditer(r"pub struct (Raw\w+)\s*\{(.*?)\n\}", source.read_text(), re.S):
            fields, rename = structs.setdefault(match.group(1), {}), None
            for line in match.group(2).splitlines():
                line = line.strip()
                if found := re.match(r'#\[serde\(rename = "(\w+)"\)\]', line):
                    rename = found.group(1)
                elif found := re.match(r"pub (\w+): (.+),$", line):
                    fields[rename or found.group(1)] = found.group(2)
                    rename = None
    return structs


STRUCTS = raw_structs()


def check_keys(value, rust_type, where, origin):
    rust_type = re.sub(r"\b(?:super|crate|self)::(?:\w+::)*", "", rust_type).replace(" ", "")
    if found := re.fullmatch(r"(?:Option|Box)<(.*)>", rust_type):
        check_keys(value, found.group(1), where, origin)
    elif (found := re.fullmatch(r"Vec<(.*)>", rust_type)) and isinstance(value, list):
        for i, item in enumerate(value):
            check_keys(item, found.group(1), f"{where}[{i}]", origin)
    elif (found := re.fullmatch(r"(?:BTreeMap|HashMap)<String,(.*)>", rust_type)) and isinstance(value, dict):
        for key, item in value.items():
            check_keys(item, found.group(1), f"{where}.{key}", origin)
    elif rust_type in STRUCTS and isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}".lstrip(".")
            if key not in STRUCTS[rust_type]:
                fail(origin, f"`{path}` is not a gateway config key ({rust_type} has {sorted(STRUCTS[rust_type])})")
            else:
                check_keys(item, STRUCTS[rust_type][key], path, origin)


def needed_vars(config_text):
    """${VAR} without a default: the gateway expands a missing one to ""."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", config_text))


if "RawConfig" not in STRUCTS:
    fail("src/config", "no `pub struct RawConfig` found: update scripts/check_deploy.py")


def gateway_config(text, origin):
    config = yaml.safe_load(text) or {}
    check_keys(config, "RawConfig", "", origin)
    return config


example = yaml.safe_load((ROOT / "config/config.example.yaml").read_text())
DEFAULT_SHUTDOWN = seconds(example["server"]["shutdown_timeout"])


def drain_budget(config):
    """Seconds from SIGTERM until the gateway has surely exited."""
    server = config.get("server", {})
    return (
        seconds(server.get("shutdown_delay", DEFAULT_DELAY))
        + seconds(server.get("shutdown_timeout", DEFAULT_SHUTDOWN))
        + EXTRA
    )


def port_of(config):
    return int(str(config.get("server", {}).get("address", ":8080")).rsplit(":", 1)[1])


# 3 + 4. Compose, its gateway config and Prometheus.
compose_path, fleet_path = DEPLOY / "compose.yaml", DEPLOY / "config.fleet.yaml"
compose, fleet_text = docs[compose_path][0], fleet_path.read_text()
fleet = gateway_config(fleet_text, rel(fleet_path))
services = compose.get("services", {})
gateways = sorted(name for name, s in services.items() if "build" in s)
if len(gateways) < 2:
    fail(rel(compose_path), f"expected two gateway replicas built from the Dockerfile, found {gateways}")
for name in gateways:
    service, where = services[name], f"{rel(compose_path)}: services.{name}"
    build = service["build"]
    if not (compose_path.parent / build["context"] / build.get("dockerfile", "Dockerfile")).is_file():
        fail(where, f"build {build} names no Dockerfile")
    mounts = [v.split(":") for v in service.get("volumes", [])]
    if not any(m[1] == "/etc/llm-gateway/config.yaml" and (DEPLOY / m[0]).resolve() == fleet_path for m in mounts):
        fail(where, "does not mount config.fleet.yaml at /etc/llm-gateway/config.yaml")
    missing = needed_vars(fleet_text) - set(service.get("environment", {}))
    if missing:
        fail(where, f"config.fleet.yaml needs {sorted(missing)}, not in its environment")
    if seconds(service.get("stop_grace_period", "10s")) <= drain_budget(fleet):
        fail(where, f"stop_grace_period is shorter than the drain ({drain_budget(fleet)} s)")
for name, service in services.items():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith(".") and not (DEPLOY / source).exists():
            fail(f"{rel(compose_path)}: services.{name}", f"mounts {source}, which does not exist")
if fleet.get("conversations", {}).get("store") != "redis" or "redis" not in services:
    fail(rel(fleet_path), "the fleet must share conversations through the compose `redis` service")
otlp_host = re.sub(r"^https?://([^:/]+).*", r"\1", str(fleet.get("tracing", {}).get("otlp_endpoint", "")))
if otlp_host not in services:
    fail(rel(fleet_path), f"tracing.otlp_endpoint host `{otlp_host}` is not a compose service")
prometheus = docs[DEPLOY / "prometheus.yml"][0]
targets = {
    t for job in prometheus.get("scrape_configs", []) if job.get("job_name") == "llm-gateway"
    for group in job.get("static_configs", []) for t in group.get("targets", [])
}
if targets != {f"{g}:{port_of(fleet)}" for g in gateways}:
    fail("deploy/prometheus.yml", f"llm-gateway targets {sorted(targets)} are not the gateway services {gateways}")


# 3 + 4. Kubernetes.
objects = {}
for path, documents in docs.items():
    if K8S in path.parents:
        for doc in documents:
            objects.setdefault(doc.get("kind"), []).append(doc)
one = {kind: items[0] for kind, items in objects.items()}
for kind in ("Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"):
    if kind not in one:
        fail("deploy/kubernetes", f"no {kind}")
if not problems:
    deployment, configmap, secret = one["Deployment"], one["ConfigMap"], one["Secret"]
    where = "deploy/kubernetes/deployment.yaml"
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    for kind, selector in (
        ("Deployment", deployment["spec"]["selector"]["matchLabels"]),
        ("Service", one["Service"]["spec"]["selector"]),
        ("PodDisruptionBudget", one["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]),
    ):
        if not selector.items() <= labels.items():
            fail(f"deploy/kubernetes ({kind})", f"selector {selector} does not match the pod labels {labels}")
    spec = pod["spec"]
    container = spec["containers"][0]
    config_text = configmap["data"].get("config.yaml", "")
    k8s_config = gateway_config(config_text, "deploy/kubernetes/configmap.yaml (config.yaml)")
    probes = {p: container.get(p, {}).get("httpGet", {}).get("path") for p in ("readinessProbe", "livenessProbe")}
    if probes != {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
        fail(where, f"probes must be readiness /readyz and liveness /healthz, are {probes}")
    if container["ports"][0]["containerPort"] != port_of(k8s_config):
        fail(where, "containerPort is not the config's server.address port")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace <= pre_stop + drain_budget(k8s_config):
        fail(where, f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop} + drain {drain_budget(k8s_config)}")
    pod_security, security = spec.get("securityContext", {}), container.get("securityContext", {})
    expected = {
        "pod runAsNonRoot": pod_security.get("runAsNonRoot") is True,
        "pod seccompProfile RuntimeDefault": pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        "readOnlyRootFilesystem": security.get("readOnlyRootFilesystem") is True,
        "allowPrivilegeEscalation false": security.get("allowPrivilegeEscalation") is False,
        "capabilities drop ALL": "ALL" in security.get("capabilities", {}).get("drop", []),
        "resource requests and limits": {"requests", "limits"} <= set(container.get("resources", {})),
    }
    for what, ok in expected.items():
        if not ok:
            fail(where, f"missing {what}")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    env = {e["name"]: e for e in container.get("env", [])}
    for name, entry in env.items():
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref and (ref["name"] != secret["metadata"]["name"] or (ref["key"] not in secret_keys and not ref.get("optional"))):
            fail(where, f"env {name} refers to {ref}, which the Secret template does not have")
    missing = needed_vars(config_text) - set(env)
    if missing:
        fail(where, f"the ConfigMap's config needs {sorted(missing)}, not in the container's env")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    config_volume = volumes.get(mounts.get("/etc/llm-gateway"), {}).get("configMap", {})
    if config_volume.get("name") != configmap["metadata"]["name"] or "config.yaml" not in configmap["data"]:
        fail(where, "/etc/llm-gateway must be the ConfigMap with a config.yaml key")
    if one["PodDisruptionBudget"]["spec"].get("minAvailable", 0) >= deployment["spec"].get("replicas", 1):
        fail("deploy/kubernetes/pdb.yaml", "minAvailable leaves no pod evictable")
    for hpa in objects.get("HorizontalPodAutoscaler", []):
        if hpa["spec"]["scaleTargetRef"]["name"] != deployment["metadata"]["name"]:
            fail("deploy/kubernetes (HorizontalPodAutoscaler)", "does not scale the Deployment")


# 4. systemd unit (systemd-analyze verifies the syntax where it exists).
unit_path = DEPLOY / "systemd/llm-gateway.service"
unit = {}
for line in unit_path.read_text().splitlines():
    if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
        key, _, value = line.partition("=")
        unit.setdefault(key.strip(), []).append(value.strip())
required = {
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes",
    "KillSignal": "SIGTERM", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
}
for key, value in required.items():
    if value not in unit.get(key, []):
        fail(rel(unit_path), f"needs {key}={value}")
if not ({"yes"} & set(unit.get("DynamicUser", [])) or unit.get("User")):
    fail(rel(unit_path), "needs DynamicUser=yes or a dedicated User=")
for key, pattern in (("SystemCallFilter", "@system-service"), ("EnvironmentFile", "/"), ("ExecReload", "-HUP $MAINPID")):
    if not any(pattern in v for v in unit.get(key, [])):
        fail(rel(unit_path), f"needs {key} with {pattern}")
if seconds(unit.get("TimeoutStopSec", ["90s"])[-1]) <= drain_budget(example):
    fail(rel(unit_path), f"TimeoutStopSec must exceed the drain ({drain_budget(example)} s)")


# 4. Dockerfile (hadolint lints it where it is installed) and .dockerignore.
dockerfile = (ROOT / "Dockerfile").read_text()
instructions = [line.split(None, 1) for line in re.sub(r"\\\n", " ", dockerfile).splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
froms = [args for op, args in instructions if op.upper() == "FROM"]
last_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op.upper() == "FROM"):]
users = [args.strip() for op, args in last_stage if op.upper() == "USER"]
checks = {
    "a multi-stage build": len(froms) >= 2,
    "base images pinned to a tag, not latest": all(re.search(r":(?!latest\b)[\w.-]+", f.split()[0]) for f in froms),
    "a non-root USER in the runtime stage": bool(users) and users[-1].split(":")[0] not in ("root", "0"),
    "no ADD of a URL": not any(op.upper() == "ADD" and "://" in args for op, args in instructions),
    "EXPOSE 8080": any(op.upper() == "EXPOSE" and "8080" in args for op, args in last_stage),
    "the config at /etc/llm-gateway/config.yaml": "/etc/llm-gateway/config.yaml" in dockerfile,
    "an ENTRYPOINT with --config": any(op.upper() == "ENTRYPOINT" and "--config" in args for op, args in last_stage),
}
for what, ok in checks.items():
    if not ok:
        fail("Dockerfile", f"needs {what}")
ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
for entry in ("target", ".git", ".venv"):
    if entry not in ignored:
        fail(".dockerignore", f"must list {entry}/")


if problems:
    print("check_deploy: problems:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"check_deploy: {len(docs)} YAML/JSON files parse; configs, cross-references and hardening ok")
