# dim as a container image, for the `cluster` profile of docker-compose.yml (several nodes on
# one PostgreSQL and one Kafka topic). Build: docker build -t dim .
FROM rust:1.95-bookworm AS build
# cmake and libclang: the HiGHS solver's build (as scripts/prereqs.sh installs on a host).
RUN apt-get update && apt-get install -y --no-install-recommends cmake libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin dim

FROM debian:bookworm-slim
# CA roots for HTTPS S3 endpoints; tini reaps and forwards SIGTERM so a node leaves cleanly.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/dim /usr/local/bin/dim
COPY config /etc/dim
VOLUME /var/lib/dim
ENTRYPOINT ["/usr/bin/tini", "--", "dim"]
CMD ["--daemon", "--config", "/etc/dim/cluster.toml", "--data-dir", "/var/lib/dim"]
