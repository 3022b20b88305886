# Healer's image: a release build with the static Swift standard library on Debian bookworm, run as a non-root
# user from a slim bookworm runtime. Build it with
#   docker build --build-arg HEALER_VERSION="$(cat VERSION)" --build-arg HEALER_COMMIT="$(git rev-parse HEAD)" -t healer .
# (scripts/image builds and smoke-tests it with podman; docs/deploy.md says more).

FROM docker.io/library/swift:6.3-bookworm AS build
# Unpinned on purpose: bookworm's packages change only for security fixes, and pins break when the archive moves.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4-openssl-dev libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# What SwiftPM needs (every target's folder), so that a change elsewhere keeps this stage cached.
COPY Package.swift VERSION ./
COPY Sources Sources
COPY Tests Tests
COPY bench bench
# Package.swift reads HEALER_COMMIT (there is no .git in the build context) and VERSION.
ARG HEALER_COMMIT=unknown
RUN HEALER_COMMIT="${HEALER_COMMIT}" swift build -c release --product healer --static-swift-stdlib -Xlinker -s \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/healer" /out/healer

FROM docker.io/library/debian:bookworm-slim
ARG HEALER_VERSION=0.0.0
ARG HEALER_COMMIT=unknown
# Where the source lives (scripts/image passes the checkout's origin URL when it has one).
ARG HEALER_SOURCE=""
LABEL org.opencontainers.image.title="healer" \
      org.opencontainers.image.description="A self-healing controller for servers behind a load balancer, driven by Prometheus" \
      org.opencontainers.image.source="${HEALER_SOURCE}" \
      org.opencontainers.image.version="${HEALER_VERSION}" \
      org.opencontainers.image.revision="${HEALER_COMMIT}"
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4 libsqlite3-0 ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && groupadd --system --gid 10001 healer \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/healer --no-create-home --shell /usr/sbin/nologin healer \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/healer
COPY --from=build /out/healer /usr/local/bin/healer
# The configuration and the example rules; in Kubernetes a ConfigMap is mounted over /etc/healer.
COPY deploy/kubernetes/config/ /etc/healer/
# What Healer did (open incidents, quarantines, pauses): keep it across restarts.
VOLUME ["/var/lib/healer"]
USER 10001:10001
EXPOSE 9102
ENTRYPOINT ["healer"]
CMD ["run", "--config", "/etc/healer/healer.yaml", "--log-format", "json"]
