# Sluice images: static binaries on distroless, running as non-root.
#   docker build -t sluice-manager .                    (the operator, default)
#   docker build --target proxy -t sluice-proxy .       (the sidecar proxy)
# BuildKit builds only the stages the chosen target needs.
# BUILDPLATFORM/TARGETPLATFORM let `docker buildx` cross-compile instead of
# emulating the target.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ENV CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH}

WORKDIR /workspace
# Modules first, in their own layer, so a source change does not re-download them.
COPY go.mod go.sum ./
RUN go mod download

# Every Go source (.dockerignore lets in nothing else), so a new package needs
# no Dockerfile change.
COPY . .

# CGO is off (above): distroless/static has no libc.
FROM builder AS build-proxy
RUN go build -trimpath -ldflags="-s -w" -o /out/proxy ./cmd/proxy

FROM builder AS build-manager
RUN go build -trimpath -ldflags="-s -w" -o /out/manager ./cmd/manager

FROM gcr.io/distroless/static:nonroot AS proxy
WORKDIR /
COPY --from=build-proxy /out/proxy /proxy
# 65532 is distroless's "nonroot"; numeric, so runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/proxy"]

# The last stage is the default target: the manager (config/manager/manager.yaml
# runs /manager).
FROM gcr.io/distroless/static:nonroot AS manager
WORKDIR /
COPY --from=build-manager /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
