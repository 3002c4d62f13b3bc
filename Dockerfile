# One image per PRM process: docker build --build-arg SERVICE=onboarding -t prm-onboarding .
# SERVICE is a service under services/ (onboarding, ...) or "gateway".
# The result is a distroless, non-root image holding one static-ish binary,
# run as `<image> serve` (and `<image> migrate` for services).

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG SERVICE
RUN test -n "$SERVICE" || (echo "pass --build-arg SERVICE=<onboarding|gateway|...>" && false)
WORKDIR /src
COPY . .
# Cache the registry and target directory between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p "prm-${SERVICE}" \
    && install -D "target/release/prm-${SERVICE}" /out/prm

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/prm /usr/local/bin/prm
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/prm"]
CMD ["serve"]
