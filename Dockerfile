# echod: echo-server and echo-client on Debian bookworm.
#   docker build -t echod .        (docker compose up builds it too)

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

# --- runtime: the POCO runtime libraries and the two binaries, nothing else
FROM debian:bookworm-slim
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
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpoconet80 libpoconetssl80 libpococrypto80 libpocoutil80 libpocojson80 libpocofoundation80 openssl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/* \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin echod \
 && mkdir -p /etc/echod/tls && chown echod /etc/echod/tls
COPY --from=build /build/service/echo-server /build/client/echo-client /usr/local/bin/
COPY config/echo-server.properties /etc/echod/echo-server.properties
# A development certificate on demand (docker-compose.yml's tls-cert service):
# no key is ever built into the image.
COPY scripts/dev-cert.sh /usr/local/bin/echod-dev-cert
# Settings: the file above, then any ECHO_* variable (e.g. ECHO_MAX_THREADS), then options.
ENV ECHO_CONFIG_FILE=/etc/echod/echo-server.properties
USER echod
EXPOSE 4567 4567/udp 4568 4570 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["echo-client", "--check"]
ENTRYPOINT ["echo-server"]
