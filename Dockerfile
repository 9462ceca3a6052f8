# Multi-stage build of the understudy operator: a static binary on distroless nonroot.
#   docker build -t understudy:dev --build-arg VERSION=$(git describe --tags --always) .
FROM golang:1.26 AS builder
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY main.go prune.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/understudy .

FROM gcr.io/distroless/static:nonroot
COPY --from=builder /out/understudy /understudy
USER 65532:65532
ENTRYPOINT ["/understudy"]
