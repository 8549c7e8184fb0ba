# Build the shanhe binary and ship it on a slim image. libpq and SQLite are compiled in.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock askama.toml ./
# build settings for the bundled SQLite (see the file)
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
# the manifest names the test targets; cargo wants their files present even for a release build
COPY tests ./tests
RUN cargo build --release --locked --bin shanhe

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app shanhe && mkdir -p /app/data && chown shanhe /app/data
WORKDIR /app
COPY --from=build /src/target/release/shanhe /usr/local/bin/shanhe
USER shanhe
ENV SHANHE_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["shanhe"]
CMD ["serve"]
