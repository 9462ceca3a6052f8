#!/usr/bin/env bash
# The DNS side of the e2e suite's DNS scenario (docs/testing.md): BIND9 from Debian as an authoritative
# server for one zone that takes TSIG-signed dynamic updates and zone transfers (what ExternalDNS's
# rfc2136 provider needs), and the real ExternalDNS, built from the Go module proxy, run on this host
# with the cluster's kubeconfig (--source=crd: it reads DNSEndpoints and writes their
# status.observedGeneration).
#
#   hack/e2e-dns.sh up       install/build what is missing, start named and external-dns
#   hack/e2e-dns.sh down     stop both (by the PIDs this script recorded) and remove the state
#   hack/e2e-dns.sh logs     the last lines of both logs
#   hack/e2e-dns.sh status   processes and the zone's contents (AXFR)
#   hack/e2e-dns.sh build    only build external-dns into bin/external-dns/ (cached)
#
# `up` prints KEY=value lines (also written to $UNDERSTUDY_DNS_DIR/env): DNS_SERVER, DNS_ZONE,
# TSIG_NAME, TSIG_ALG, TSIG_SECRET. Exit status 3 means a prerequisite could not be installed or built
# (no Debian archive, no module proxy): the suite then skips the DNS scenario and says why.
#
# Environment:
#   KUBECONFIG             the cluster external-dns reads (required by `up`)
#   UNDERSTUDY_DNS_DIR     state directory (default /tmp/understudy-dns)
#   E2E_DNS_ADDR           address named listens on (default 127.0.0.1)
#   E2E_DNS_PORT           its port, UDP and TCP (default 10053)
#   E2E_DNS_ZONE           the zone (default understudy.test)
#   E2E_DNS_NAMESPACE      the only namespace external-dns watches (default: all)
#   E2E_DNS_INTERVAL       external-dns --interval (default 1s)
#   EXTERNAL_DNS_VERSION   default 0.21.0
#   UNDERSTUDY_DNS_KEEP_LOGS=1  `down` keeps named.log and external-dns.log (the next `up` removes them)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${UNDERSTUDY_DNS_DIR:-/tmp/understudy-dns}
DNS_ADDR=${E2E_DNS_ADDR:-127.0.0.1}
DNS_PORT=${E2E_DNS_PORT:-10053}
ZONE=${E2E_DNS_ZONE:-understudy.test}
NAMESPACE=${E2E_DNS_NAMESPACE:-}
INTERVAL=${E2E_DNS_INTERVAL:-1s}
EXTERNAL_DNS_VERSION=${EXTERNAL_DNS_VERSION:-0.21.0}
METRICS_ADDR=${E2E_DNS_METRICS_ADDR:-127.0.0.1:17979}
GOOS=$(go env GOOS 2>/dev/null || echo linux)
GOARCH=$(go env GOARCH 2>/dev/null || echo amd64)
XDNS_DIR=$ROOT/bin/external-dns/v$EXTERNAL_DNS_VERSION-$GOOS-$GOARCH
XDNS=$XDNS_DIR/external-dns
TSIG_NAME=understudy-e2e
TSIG_ALG=hmac-sha256
DEBIAN_PACKAGES=(bind9 bind9-dnsutils)

log() { echo "e2e-dns: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
missing_prerequisite() { log "PREREQUISITE MISSING: $*"; exit 3; }

# ---------------------------------------------------------------------------------------------------
# Prerequisites

ensure_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || missing_prerequisite "Debian packages ${missing[*]} are not installed and this is not root"
  log "installing Debian packages: ${missing[*]}"
  local start=$SECONDS
  # The package's service is not started: policy-rc.d on our VMs, and named runs as our own process.
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
    missing_prerequisite "apt-get install ${missing[*]} failed"
  fi
  log "installed ${missing[*]} in $((SECONDS - start))s"
}

cmd_build() {
  if [ -x "$XDNS" ]; then return 0; fi
  command -v go >/dev/null || missing_prerequisite "go is not installed: cannot build external-dns"
  log "building external-dns v$EXTERNAL_DNS_VERSION from the Go module proxy into $XDNS_DIR (once; several minutes cold)"
  local start=$SECONDS tmp
  tmp=$(mktemp -d)
  # go install module@version builds with external-dns's own go.mod and go.sum (not ours).
  if ! (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp/bin" GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/external-dns/pkg/apis/externaldns.Version=v$EXTERNAL_DNS_VERSION" \
    "sigs.k8s.io/external-dns@v$EXTERNAL_DNS_VERSION") >&2; then
    rm -rf "$tmp"
    missing_prerequisite "go install sigs.k8s.io/external-dns@v$EXTERNAL_DNS_VERSION failed (module proxy unreachable?)"
  fi
  mkdir -p "$XDNS_DIR"
  mv "$tmp/bin/external-dns" "$XDNS"
  rm -rf "$tmp"
  log "external-dns built in $((SECONDS - start))s ($(du -h "$XDNS" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------------
# Processes (same conventions as hack/local-cluster.sh)

start_proc() { # name command...
  local name=$1
  shift
  setsid "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

proc_alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

# shellcheck source=hack/lib/proc.sh
source "$ROOT/hack/lib/proc.sh"

stop_proc() { # name [timeout seconds]
  stop_pidfile "$STATE/$1.pid" "$1" "${2:-10}"
}

# external-dns has finished a sync (read the DNSEndpoints and the zone, applied what differed).
synced() {
  curl -sf "http://$METRICS_ADDR/metrics" | awk '$1 == "external_dns_controller_last_sync_timestamp_seconds" && $2 + 0 > 0 {ok = 1} END {exit !ok}'
}

soa_answers() { [ -n "$(dig +short +tries=1 +time=1 -p "$DNS_PORT" "@$DNS_ADDR" "$ZONE" SOA)" ]; }

# ---------------------------------------------------------------------------------------------------
# BIND9

write_named_config() {
  local secret=$1
  cat >"$STATE/named.conf" <<EOF
// Written by hack/e2e-dns.sh: an authoritative-only server for $ZONE on $DNS_ADDR:$DNS_PORT.
key "$TSIG_NAME" {
  algorithm $TSIG_ALG;
  secret "$secret";
};
options {
  directory "$STATE";
  pid-file "$STATE/named.run.pid";
  session-keyfile "$STATE/session.key";
  managed-keys-directory "$STATE";
  listen-on port $DNS_PORT { $DNS_ADDR; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  notify no;
  // A deleted name is gone for the next query (the suite queries this server, no resolver caches).
  max-journal-size 10m;
};
controls { };
logging {
  category default { default_stderr; };
  category update { default_stderr; };
  category xfer-out { default_stderr; };
};
zone "$ZONE" {
  type primary;
  file "$STATE/$ZONE.zone";
  // ExternalDNS's rfc2136 provider: signed updates, and a signed AXFR to read the zone.
  allow-update { key "$TSIG_NAME"; };
  allow-transfer { key "$TSIG_NAME"; };
};
EOF
  # Negative answers carry a 1 s TTL (SOA minimum). target.$ZONE is a static record (no ExternalDNS
  # ownership TXT record, so ExternalDNS never touches it) for CNAMEs to point at.
  cat >"$STATE/$ZONE.zone" <<EOF
\$TTL 1
@       IN SOA ns1.$ZONE. hostmaster.$ZONE. ( 1 60 60 3600 1 )
        IN NS  ns1.$ZONE.
ns1     IN A   $DNS_ADDR
target  IN A   198.51.100.99
EOF
}

# ---------------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  [ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG must name the cluster external-dns reads"
  [ -f "$KUBECONFIG" ] || die "KUBECONFIG $KUBECONFIG does not exist"
  ensure_packages
  command -v named >/dev/null || missing_prerequisite "named not found after installing bind9"
  cmd_build
  # Whatever an earlier run left (its processes, its zone) goes first.
  cmd_down >/dev/null 2>&1 || true
  mkdir -p "$STATE"
  local secret
  secret=$(openssl rand -base64 32 2>/dev/null || head -c 32 /dev/urandom | base64)
  write_named_config "$secret"
  named-checkconf "$STATE/named.conf" || die "named-checkconf refused $STATE/named.conf"
  named-checkzone -q "$ZONE" "$STATE/$ZONE.zone" || die "named-checkzone refused the zone"
  start_proc named named -g -c "$STATE/named.conf"
  if ! wait_for "named on $DNS_ADDR:$DNS_PORT" 30 soa_answers; then
    tail -40 "$STATE/named.log" >&2 || true
    die "named did not answer"
  fi

  local args=(
    --kubeconfig="$KUBECONFIG"
    --source=crd --crd-source-apiversion=externaldns.k8s.io/v1alpha1 --crd-source-kind=DNSEndpoint
    --provider=rfc2136 --rfc2136-host="$DNS_ADDR" --rfc2136-port="$DNS_PORT" --rfc2136-zone="$ZONE"
    --rfc2136-tsig-keyname="$TSIG_NAME" --rfc2136-tsig-secret="$secret" --rfc2136-tsig-secret-alg="$TSIG_ALG"
    --rfc2136-tsig-axfr
    --domain-filter="$ZONE" --registry=txt --txt-owner-id=e2e --policy=sync
    --interval="$INTERVAL" --metrics-address="$METRICS_ADDR" --log-level=debug
  )
  if [ -n "$NAMESPACE" ]; then args+=(--namespace="$NAMESPACE"); fi
  start_proc external-dns "$XDNS" "${args[@]}"
  # Up once its first sync succeeded (a bad flag, an unreachable API server or a missing CRD ends it;
  # a refused TSIG key or zone transfer fails the sync).
  if ! wait_for "external-dns's first sync" 60 synced; then
    tail -40 "$STATE/external-dns.log" >&2 || true
    die "external-dns did not sync"
  fi

  cat >"$STATE/env" <<EOF
DNS_SERVER=$DNS_ADDR:$DNS_PORT
DNS_ZONE=$ZONE
TSIG_NAME=$TSIG_NAME
TSIG_ALG=$TSIG_ALG
TSIG_SECRET=$secret
EXTERNAL_DNS=$XDNS
EXTERNAL_DNS_INTERVAL=$INTERVAL
EOF
  log "named (pid $(cat "$STATE/named.pid")) serves $ZONE on $DNS_ADDR:$DNS_PORT; external-dns v$EXTERNAL_DNS_VERSION (pid $(cat "$STATE/external-dns.pid")) syncs every $INTERVAL; logs in $STATE"
  cat "$STATE/env"
}

cmd_down() {
  [ -d "$STATE" ] || return 0
  stop_proc external-dns
  stop_proc named
  if [ "${UNDERSTUDY_DNS_KEEP_LOGS:-0}" = 1 ]; then
    find "$STATE" -mindepth 1 ! -name '*.log' -delete
    log "stopped; logs kept in $STATE"
  else
    rm -rf "$STATE"
  fi
}

cmd_logs() {
  local n=${1:-200} f
  for f in named external-dns; do
    echo "----- $f log ($STATE/$f.log, last $n lines)"
    tail -n "$n" "$STATE/$f.log" 2>/dev/null || echo "(none)"
  done
}

cmd_status() {
  [ -d "$STATE" ] || { log "not running ($STATE does not exist)"; return 1; }
  local p
  for p in named external-dns; do
    if proc_alive "$p"; then echo "  $p running (pid $(cat "$STATE/$p.pid"))"; else echo "  $p NOT running"; fi
  done
  # shellcheck disable=SC1091
  source "$STATE/env"
  dig +noall +answer -p "$DNS_PORT" "@$DNS_ADDR" -y "$TSIG_ALG:$TSIG_NAME:$TSIG_SECRET" "$ZONE" AXFR
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
logs) shift; cmd_logs "$@" ;;
status) cmd_status ;;
build) cmd_build ;;
*)
  sed -n '2,16p' "$0" >&2
  exit 2
  ;;
esac
