# syntax=docker/dockerfile:1
# llm-gateway container image: `docker build -t llm-gateway .` (recipes and checks: deploy/README.md).
#
# Two stages so the runtime image carries the binary and nothing of the toolchain. Both stages are
# Debian 12 (bookworm): the binary links against glibc, and one built on a newer Debian (the rust
# image's default variant) may need symbols the runtime's glibc lacks.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# The whole workspace: Cargo needs every member's manifest to resolve `-p llm-gateway`, and the
# binary embeds config/config.example.yaml. .dockerignore keeps target/, .git and venvs out.
COPY . .
# Cache mounts keep the crate registry and the build directory between builds (BuildKit), so a
# source change recompiles the gateway, not its ~400 dependencies. The binary is copied out of the
# cached target/ because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p llm-gateway --bin gateway \
    && cp target/release/gateway /usr/local/bin/gateway

# distroless/cc: glibc, libgcc, CA certificates (upstream TLS checks against the system roots) and
# nothing else: no shell, no package manager. The :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/gateway /usr/local/bin/gateway
# The example config as the default; mount your own over /etc/llm-gateway/ (compose, ConfigMap).
# Keys come from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...), never from the image.
COPY config/config.example.yaml /etc/llm-gateway/config.yaml
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
# server.address ":8080" in the example config.
EXPOSE 8080
# No HEALTHCHECK: the image has no shell, curl or wget to run one, by design. Orchestrators probe
# the HTTP endpoints themselves: GET /healthz (liveness) and /readyz (readiness, 503 while draining).
# SIGTERM drains: /readyz turns 503 at once, in-flight streams get server.shutdown_timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gateway", "--config", "/etc/llm-gateway/config.yaml"]
