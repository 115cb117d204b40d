# echod: echo-server and echo-client on Debian bookworm's libraries, in an
# image that holds what they run and nothing else (docs/image.md).
#   docker build -t echod .                          (docker compose up builds it too)
#   docker build --target dev-cert -t echod-dev-cert .   the development certificate maker

# --- build: compile, run the unit tests; a broken build never yields an image
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make libpoco-dev googletest libgtest-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY protocol protocol
COPY settings settings
COPY tls tls
COPY service service
COPY client client
COPY tests tests
COPY config config
# The settings docs test checks these against the code.
COPY README.md ./
COPY docs/configuration.md docs/
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DECHOD_WERROR=ON \
 && cmake --build /build -j"$(nproc)" --target echo-server echo-client unit_tests allocation_tests \
 && cd /build && ctest -L unit --output-on-failure \
 && strip /build/service/echo-server /build/client/echo-client
# The runtime's whole tree: the two programs, every shared library they load
# (as ldd lists them: POCO, OpenSSL, libstdc++, glibc and what those need,
# with the dynamic loader), glibc's NSS and host-name settings, the default
# properties file, and a passwd entry for the user. No shell, no package manager.
COPY config/echo-server.properties /rootfs/etc/echod/echo-server.properties
RUN set -eu \
 && mkdir -p /rootfs/usr/local/bin /rootfs/etc/echod/tls \
 && cp /build/service/echo-server /build/client/echo-client /rootfs/usr/local/bin/ \
 && for lib in $(ldd /rootfs/usr/local/bin/echo-server /rootfs/usr/local/bin/echo-client \
                 | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do \
      cp -L --parents "$lib" /rootfs/; \
    done \
 && printf 'hosts: files dns\n' >/rootfs/etc/nsswitch.conf \
 && printf 'root:x:0:0:root:/nonexistent:/nonexistent\nechod:x:10001:10001:echod:/nonexistent:/nonexistent\n' >/rootfs/etc/passwd \
 && printf 'root:x:0:\nechod:x:10001:\n' >/rootfs/etc/group \
 && chown 10001:10001 /rootfs/etc/echod/tls

# --- the development certificate maker (docker-compose.yml's tls-cert service):
# openssl and a shell, in an image of its own; no key is ever built into an image.
FROM debian:bookworm-slim AS dev-cert
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin echod \
 && mkdir -p /etc/echod/tls && chown echod /etc/echod/tls
COPY scripts/dev-cert.sh /usr/local/bin/echod-dev-cert
USER echod
ENTRYPOINT ["echod-dev-cert", "/etc/echod/tls"]

# --- runtime: the tree above, from scratch
FROM scratch
# The standard OCI labels. The container tests pass the commit as ECHOD_REVISION;
# a publisher passes the repository's URL as ECHOD_SOURCE. The project has no
# licence file yet: NOASSERTION (SPDX) says so rather than guess one.
ARG ECHOD_VERSION=1.0.0
ARG ECHOD_REVISION=unknown
ARG ECHOD_SOURCE=unknown
ARG ECHOD_LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="echod" \
      org.opencontainers.image.description="A threaded TCP echo server for testing load balancers, meshes and clients: PROXY protocol, who answered, graceful rotation, TLS, Prometheus metrics, a web console" \
      org.opencontainers.image.source="${ECHOD_SOURCE}" \
      org.opencontainers.image.version="${ECHOD_VERSION}" \
      org.opencontainers.image.revision="${ECHOD_REVISION}" \
      org.opencontainers.image.licenses="${ECHOD_LICENSES}"
COPY --from=build /rootfs/ /
# Settings: the file above, then any ECHO_* variable (e.g. ECHO_MAX_THREADS), then options.
ENV ECHO_CONFIG_FILE=/etc/echod/echo-server.properties \
    PATH=/usr/local/bin
USER 10001:10001
EXPOSE 4567 4567/udp 4568 4570 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["echo-client", "--check"]
ENTRYPOINT ["echo-server"]
