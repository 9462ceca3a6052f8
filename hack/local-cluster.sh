#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, without Docker, kind or a registry (see
# docs/testing.md and the checked recipe it follows): etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, containerd (Debian), kubelet and kube-proxy run as plain background processes under
# a state directory, pods get addresses from the CNI bridge plugin, images are imported from
# docker-save tarballs built by hack/imagepack.
#
#   hack/local-cluster.sh up            build what is missing, start everything, load the images
#   hack/local-cluster.sh load-images   rebuild and import the images (after changing the operator)
#   hack/local-cluster.sh status        processes, node and pods
#   hack/local-cluster.sh down          stop everything and leave nothing behind
#   hack/local-cluster.sh build         only build the binaries into the cache (bin/cluster/)
#
# Needs root, Linux, cgroups, Debian packages (installed when missing) and the Go module proxy for the
# first build (~6 min, 2 GB RAM; later runs reuse bin/cluster/<version>-<os>-<arch>/).
#
# Environment:
#   UNDERSTUDY_CLUSTER_DIR  state directory (default /tmp/understudy-cluster)
#   K8S_VERSION             Kubernetes version built from the module proxy (default 1.37.0;
#                           1.36.3 is the other checked version)
#   ETCD_VERSION            etcd version (default 3.6.16)
#   NODE_IP                 node address (default: the IPv4 address of the default-route interface;
#                           only used by the cluster's own components and pods on this machine)
#   POD_CIDR, SERVICE_CIDR  default 10.244.0.0/24 and 10.96.0.0/16
#   SKIP_IMAGES=1           `up` does not build/import images
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S_VERSION=${K8S_VERSION:-1.37.0}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
GOOS=$(go env GOOS 2>/dev/null || echo linux)
GOARCH=$(go env GOARCH 2>/dev/null || echo amd64)
BIN=${CLUSTER_BIN_DIR:-$ROOT/bin/cluster/$K8S_VERSION-$GOOS-$GOARCH}
IMAGES_DIR=$ROOT/bin/images
STATE=${UNDERSTUDY_CLUSTER_DIR:-/tmp/understudy-cluster}
NODE_NAME=${NODE_NAME:-understudy-node}
POD_CIDR=${POD_CIDR:-10.244.0.0/24}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/16}
SERVICE_FIRST_IP=${SERVICE_FIRST_IP:-10.96.0.1}
CLUSTER_DNS=${CLUSTER_DNS:-10.96.0.10}
APISERVER_PORT=${APISERVER_PORT:-6443}
ETCD_PORT=${ETCD_PORT:-2479}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-2480}
# The pod sandbox image: containerd's sandbox_image and the tag of the pause image we import.
PAUSE_IMAGE=${PAUSE_IMAGE:-registry.k8s.io/pause:3.10}
OPERATOR_IMAGE=${OPERATOR_IMAGE:-understudy:e2e}
MEMBER_IMAGE=${MEMBER_IMAGE:-understudy-e2e-member:e2e}
MSSQL_IMAGE=${MSSQL_IMAGE:-understudy-e2e-mssqlsim:e2e}
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
DEBIAN_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack openssl)

log() { echo "local-cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

kctl() { "$BIN/kubectl" --kubeconfig "$STATE/kubeconfig" "$@"; }

default_node_ip() {
  local dev
  dev=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  [ -n "$dev" ] || die "no default route; set NODE_IP to an IPv4 address of this machine"
  ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

# ---------------------------------------------------------------------------------------------------
# Packages and binaries

ensure_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

K8S_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

have_binaries() {
  local c
  for c in "${K8S_COMPONENTS[@]}" etcd; do [ -x "$BIN/$c" ] || return 1; done
}

build_binaries() {
  have_binaries && return 0
  # shellcheck source=hack/lib/k8s-build.sh
  source "$ROOT/hack/lib/k8s-build.sh"
  mkdir -p "$BIN"
  local start missing=() c
  start=$(date +%s)
  # envtest's kube-apiserver (hack/envtest-assets.sh) is the same version: no need to build it twice.
  local envtest_dir="$ROOT/bin/k8s/$K8S_VERSION-$GOOS-$GOARCH"
  if [ ! -x "$BIN/kube-apiserver" ] && [ -x "$envtest_dir/kube-apiserver" ] &&
    "$envtest_dir/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes v$K8S_VERSION"; then
    cp "$envtest_dir/kube-apiserver" "$BIN/kube-apiserver"
  fi
  for c in "${K8S_COMPONENTS[@]}"; do [ -x "$BIN/$c" ] || missing+=("$c"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "building ${missing[*]} v$K8S_VERSION from the Go module proxy into $BIN (once; ~6 min cold)"
    # Build into a temporary directory first, so an interrupted build never leaves half a cache.
    local tmp="$BIN.partial"
    rm -rf "$tmp" && mkdir -p "$tmp"
    k8s_build "$K8S_VERSION" "$tmp" "${missing[@]}" >&2
    for c in "${missing[@]}"; do mv "$tmp/$c" "$BIN/$c"; done
    rmdir "$tmp"
  fi
  if [ ! -x "$BIN/etcd" ]; then
    local envtest_etcd="$ROOT/bin/k8s/$K8S_VERSION-$GOOS-$GOARCH/etcd"
    if [ -x "$envtest_etcd" ] && [ "$("$envtest_etcd" --version 2>/dev/null | awk '/etcd Version/ {print $3}')" = "$ETCD_VERSION" ]; then
      cp "$envtest_etcd" "$BIN/etcd"
    else
      log "building etcd v$ETCD_VERSION"
      etcd_build "$ETCD_VERSION" "$BIN" >&2
    fi
  fi
  log "binaries ready in $BIN ($(( $(date +%s) - start ))s)"
}

# ---------------------------------------------------------------------------------------------------
# Images

build_images() {
  local out=$IMAGES_DIR gobuild=(env CGO_ENABLED=0 GOOS=linux GOARCH="$GOARCH" go build -trimpath)
  mkdir -p "$out/bin"
  log "building images into $out"
  (
    cd "$ROOT"
    # The same binary the Dockerfile builds.
    "${gobuild[@]}" -ldflags "-s -w -X main.version=e2e" -o "$out/bin/understudy" .
    "${gobuild[@]}" -ldflags "-s -w" -o "$out/bin/memberserver" ./test/e2e/memberserver
    "${gobuild[@]}" -ldflags "-s -w" -o "$out/bin/mssqlsim" ./test/mssqlsim/cmd/mssqlsim
    "${gobuild[@]}" -ldflags "-s -w" -o "$out/bin/pause" ./hack/imagepack/pause
    go build -o "$out/bin/imagepack" ./hack/imagepack
  )
  "$out/bin/imagepack" -o "$out/understudy.tar" -tag "$OPERATOR_IMAGE" -arch "$GOARCH" \
    -entrypoint /understudy -user 65532:65532 "$out/bin/understudy=/understudy"
  "$out/bin/imagepack" -o "$out/member.tar" -tag "$MEMBER_IMAGE" -arch "$GOARCH" \
    -entrypoint /memberserver -user 65532:65532 "$out/bin/memberserver=/memberserver"
  # The "SQL Server" of the SQL scenario: the TDS simulator test/mssqlsim (not SQL Server).
  "$out/bin/imagepack" -o "$out/mssqlsim.tar" -tag "$MSSQL_IMAGE" -arch "$GOARCH" \
    -entrypoint /mssqlsim -user 65532:65532 "$out/bin/mssqlsim=/mssqlsim"
  "$out/bin/imagepack" -o "$out/pause.tar" -tag "$PAUSE_IMAGE" -arch "$GOARCH" \
    -entrypoint /pause -user 65535:65535 "$out/bin/pause=/pause"
}

ctr_k8s() { ctr --address "$STATE/containerd/containerd.sock" -n k8s.io "$@"; }

import_images() {
  local t
  for t in pause understudy member mssqlsim; do
    ctr_k8s images import "$IMAGES_DIR/$t.tar" >/dev/null
  done
  log "images in containerd: $(ctr_k8s images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
}

cmd_load_images() {
  [ -S "$STATE/containerd/containerd.sock" ] || die "cluster is not up ($STATE)"
  build_images
  import_images
}

# ---------------------------------------------------------------------------------------------------
# Certificates (openssl)

gen_certs() {
  local pki=$STATE/pki
  [ -f "$pki/.done" ] && return 0
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/CN=understudy-local-ca" 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # name CN O [SANs]
    issue() {
      local name=$1 cn=$2 org=$3 sans=${4:-} subj="/CN=$2" ext
      [ -n "$org" ] && subj="/O=$org/CN=$cn"
      ext=$(mktemp)
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [ -n "$sans" ]; then
          echo "extendedKeyUsage=serverAuth,clientAuth"
          echo "subjectAltName=$sans"
        else
          echo "extendedKeyUsage=clientAuth"
        fi
      } >"$ext"
      openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" \
        -days 30 -extfile "$ext" 2>/dev/null
      rm -f "$name.csr" "$ext"
    }
    issue apiserver kube-apiserver "" \
      "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$(hostname),DNS:$NODE_NAME,IP:127.0.0.1,IP:$SERVICE_FIRST_IP,IP:$NODE_IP"
    issue admin kubernetes-admin system:masters
    issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
    issue controller-manager system:kube-controller-manager ""
    issue scheduler system:kube-scheduler ""
    issue kubelet "system:node:$NODE_NAME" system:nodes
    issue kube-proxy system:kube-proxy ""
  )
  touch "$pki/.done"
}

write_kubeconfig() { # file cert-name
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: understudy-local
  cluster:
    certificate-authority: $STATE/pki/ca.crt
    server: https://$NODE_IP:$APISERVER_PORT
users:
- name: $2
  user:
    client-certificate: $STATE/pki/$2.crt
    client-key: $STATE/pki/$2.key
contexts:
- name: understudy-local
  context: {cluster: understudy-local, user: $2}
current-context: understudy-local
EOF
}

# ---------------------------------------------------------------------------------------------------
# Processes

start_proc() { # name command...
  local name=$1
  shift
  if [ -f "$STATE/pids/$name.pid" ] && kill -0 "$(cat "$STATE/pids/$name.pid")" 2>/dev/null; then
    return 0
  fi
  # 9<&-: the daemons must not inherit (and keep) the lock taken by lock() below.
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 </dev/null 9<&- &
  echo $! >"$STATE/pids/$name.pid"
}

proc_alive() { [ -f "$STATE/pids/$1.pid" ] && kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }

# shellcheck source=hack/lib/proc.sh
source "$ROOT/hack/lib/proc.sh"

stop_proc() { # name [timeout seconds]
  stop_pidfile "$STATE/pids/$1.pid" "$1" "${2:-15}"
}

apiserver_healthy() {
  curl -sf --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" \
    "https://$NODE_IP:$APISERVER_PORT/readyz" | grep -q ok
}

node_ready() {
  [ "$(kctl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = "True" ]
}

write_configs() {
  mkdir -p "$STATE"/{pids,logs,etcd,containerd,cni/net.d,cni/ipam,kubelet,pod-logs,config}
  write_kubeconfig "$STATE/kubeconfig" admin
  local c
  for c in controller-manager scheduler kubelet kube-proxy; do write_kubeconfig "$STATE/config/$c.kubeconfig" "$c"; done

  cat >"$STATE/config/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This VM lacks CAP_SYS_RESOURCE: without this every sandbox fails ("can't get final child's PID").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$STATE/cni/net.d"
EOF

  cat >"$STATE/cni/net.d/10-understudy.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "understudy",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat >"$STATE/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
oomScoreAdj: 0
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
podLogsDir: $STATE/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
maxPods: 60
EOF

  cat >"$STATE/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/config/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0}
EOF
}

sysctls() {
  # Remember the values we change, so `down` restores them.
  if [ ! -f "$STATE/sysctl.orig" ]; then
    : >"$STATE/sysctl.orig"
    local k
    for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables; do
      if [ -e "/proc/sys/${k//.//}" ]; then echo "$k=$(sysctl -n "$k")" >>"$STATE/sysctl.orig"; fi
    done
  fi
  sysctl -qw net.ipv4.ip_forward=1
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then sysctl -qw net.bridge.bridge-nf-call-iptables=1; fi
}

# Packets for a Service or pod address that nothing on this machine handles (a ClusterIP kube-proxy has
# not programmed yet, an unused one, a pod subnet before cni0 exists) would follow the default route
# off this machine. Reject them here instead: only traffic DNATed by kube-proxy or sent into cni0 passes.
guard_network() {
  iptables -N UNDERSTUDY-GUARD 2>/dev/null || iptables -F UNDERSTUDY-GUARD
  iptables -A UNDERSTUDY-GUARD -d "$SERVICE_CIDR" -m conntrack ! --ctstate DNAT -j REJECT --reject-with icmp-net-unreachable
  iptables -A UNDERSTUDY-GUARD -d "$POD_CIDR" ! -o cni0 -m conntrack ! --ctstate DNAT -j REJECT --reject-with icmp-net-unreachable
  local chain
  for chain in OUTPUT FORWARD; do
    iptables -C "$chain" -j UNDERSTUDY-GUARD 2>/dev/null || iptables -I "$chain" 1 -j UNDERSTUDY-GUARD
  done
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  local t0 t1
  t0=$(date +%s)
  ensure_packages
  build_binaries
  if [ "${SKIP_IMAGES:-0}" != 1 ]; then build_images; fi
  t1=$(date +%s)

  mkdir -p "$STATE"
  if [ -f "$STATE/env" ]; then
    # shellcheck disable=SC1091
    source "$STATE/env"
  else
    NODE_IP=${NODE_IP:-$(default_node_ip)}
    [ -n "$NODE_IP" ] || die "could not find the node IP; set NODE_IP"
    echo "NODE_IP=$NODE_IP" >"$STATE/env"
  fi
  log "state in $STATE, node $NODE_NAME at $NODE_IP, pods $POD_CIDR, services $SERVICE_CIDR"
  write_configs
  gen_certs
  sysctls
  guard_network

  start_proc etcd "$BIN/etcd" --name understudy --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "understudy=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn
  start_proc containerd containerd --config "$STATE/config/containerd.toml"
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --client-ca-file "$STATE/pki/ca.crt" \
    --tls-cert-file "$STATE/pki/apiserver.crt" --tls-private-key-file "$STATE/pki/apiserver.key" \
    --kubelet-client-certificate "$STATE/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$STATE/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$STATE/pki/sa.pub" \
    --service-account-signing-key-file "$STATE/pki/sa.key" \
    --allow-privileged=true --profiling=false --event-ttl 2h
  wait_for "kube-apiserver" 90 apiserver_healthy || { tail -30 "$STATE/logs/kube-apiserver.log" >&2; exit 1; }

  start_proc kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$STATE/config/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/config/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/config/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --root-ca-file "$STATE/pki/ca.crt" --service-account-private-key-file "$STATE/pki/sa.key" \
    --cluster-signing-cert-file "$STATE/pki/ca.crt" --cluster-signing-key-file "$STATE/pki/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --controllers '*,-nodeipam'
  start_proc kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$STATE/config/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/config/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/config/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
  wait_for "containerd" 30 ctr_k8s version || { tail -30 "$STATE/logs/containerd.log" >&2; exit 1; }
  if [ "${SKIP_IMAGES:-0}" != 1 ]; then import_images; fi

  start_proc kubelet "$BIN/kubelet" --config "$STATE/config/kubelet.yaml" \
    --kubeconfig "$STATE/config/kubelet.kubeconfig" --root-dir "$STATE/kubelet" \
    --cert-dir "$STATE/kubelet/pki" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --v 1
  start_proc kube-proxy "$BIN/kube-proxy" --config "$STATE/config/kube-proxy.yaml"
  wait_for "node $NODE_NAME Ready" 120 node_ready || { tail -40 "$STATE/logs/kubelet.log" >&2; exit 1; }
  # The default ServiceAccount must exist before pods can be created in a namespace.
  wait_for "default ServiceAccount" 60 kctl get serviceaccount default -n default || true

  local t2
  t2=$(date +%s)
  log "cluster up: node Ready $((t2 - t1))s after start ($((t2 - t0))s including builds)"
  cat >&2 <<EOF

  export KUBECONFIG=$STATE/kubeconfig
  $BIN/kubectl get nodes,pods -A
  (images: $OPERATOR_IMAGE, $MEMBER_IMAGE, $MSSQL_IMAGE, $PAUSE_IMAGE; use imagePullPolicy: Never or IfNotPresent)
  hack/local-cluster.sh down   # stops everything

EOF
  echo "$STATE/kubeconfig"
}

# ---------------------------------------------------------------------------------------------------
# Teardown

cleanup_iptables() {
  local tool table chain rule
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null 2>&1 || continue
    for table in filter nat mangle raw; do
      "$tool" -t "$table" -S >/dev/null 2>&1 || continue
      # Rules in built-in chains that jump to our chains, then our chains themselves.
      { "$tool" -t "$table" -S 2>/dev/null || true; } | { grep -E -- '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (CNI-|KUBE-|UNDERSTUDY-)' || true; } |
        while read -r rule; do
          # shellcheck disable=SC2086
          eval "$tool -t $table ${rule/-A/-D}" 2>/dev/null || true
        done
      for chain in $({ "$tool" -t "$table" -S 2>/dev/null || true; } | awk '$1 == "-N" && ($2 ~ /^CNI-/ || $2 ~ /^KUBE-/ || $2 ~ /^UNDERSTUDY-/) {print $2}'); do
        "$tool" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $({ "$tool" -t "$table" -S 2>/dev/null || true; } | awk '$1 == "-N" && ($2 ~ /^CNI-/ || $2 ~ /^KUBE-/ || $2 ~ /^UNDERSTUDY-/) {print $2}'); do
        "$tool" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

cmd_down() {
  local t0
  t0=$(date +%s)
  if [ ! -d "$STATE" ]; then
    log "nothing to do ($STATE does not exist)"
    return 0
  fi
  # shellcheck disable=SC1091
  [ -f "$STATE/env" ] && source "$STATE/env"
  NODE_IP=${NODE_IP:-127.0.0.1}
  # No new pods: stop the controllers, then delete every pod while the kubelet still runs, so CNI DEL
  # releases the addresses and the bridge plugin removes its iptables rules.
  stop_proc kube-controller-manager
  stop_proc kube-scheduler
  if proc_alive kube-apiserver && proc_alive kubelet; then
    kctl delete pods --all -A --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1 ||
      log "some pods were not deleted in time; their containers are killed below"
  fi
  stop_proc kubelet
  stop_proc kube-proxy
  if [ -x "$BIN/kube-proxy" ]; then "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  stop_proc kube-apiserver
  stop_proc etcd

  # Whatever the kubelet did not stop: kill the tasks, remove the sandboxes' network namespaces.
  if proc_alive containerd; then
    local task
    for task in $({ ctr_k8s tasks ls -q 2>/dev/null || true; }); do
      ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for task in $({ ctr_k8s tasks ls -q 2>/dev/null || true; }); do
      ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true
    done
    for task in $({ ctr_k8s containers ls -q 2>/dev/null || true; }); do
      ctr_k8s containers delete "$task" >/dev/null 2>&1 || true
    done
  fi
  stop_proc containerd
  # containerd-shim processes started by our containerd carry our socket path on their command line.
  local pid
  for pid in $({ pgrep -f -- "-address $STATE/containerd/containerd.sock" || true; }); do
    kill -KILL "$pid" 2>/dev/null || true
  done

  # Network namespaces (netns_mounts_under_state_dir), overlay rootfs, kubelet volumes: unmount deepest first.
  local m _
  for _ in 1 2 3; do
    m=$(awk -v s="$STATE/" 'index($2, s) == 1 {print $2}' /proc/self/mounts | sort -r)
    [ -z "$m" ] && break
    while read -r mp; do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true; done <<<"$m"
  done
  if ip link show cni0 >/dev/null 2>&1; then ip link delete cni0 || true; fi
  cleanup_iptables
  conntrack -D -s "${POD_CIDR%/*}/${POD_CIDR#*/}" >/dev/null 2>&1 || true

  if [ -f "$STATE/sysctl.orig" ]; then
    local kv
    while read -r kv; do
      if [ -n "$kv" ]; then sysctl -qw "$kv" >/dev/null 2>&1 || true; fi
    done <"$STATE/sysctl.orig"
  fi
  rm -rf "$STATE"
  log "cluster down in $(( $(date +%s) - t0 ))s; $STATE removed"
}

cmd_status() {
  [ -d "$STATE" ] || { log "not running ($STATE does not exist)"; return 1; }
  local p
  for p in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    if proc_alive "$p"; then printf '  %-24s running (pid %s)\n' "$p" "$(cat "$STATE/pids/$p.pid")"; else printf '  %-24s NOT running\n' "$p"; fi
  done
  echo "  kubeconfig: $STATE/kubeconfig   kubectl: $BIN/kubectl   logs: $STATE/logs/ and $STATE/pod-logs/"
  kctl get nodes -o wide
  kctl get pods -A -o wide
}

# One up/down/load-images at a time: a `down` still running must not remove the state of an `up`
# that just started. The lock is taken on this script itself, so nothing is left behind.
lock() {
  exec 9<"${BASH_SOURCE[0]}"
  if ! flock -w 300 9; then die "another hack/local-cluster.sh up/down is still running"; fi
}

case "${1:-}" in
  up) lock; cmd_up ;;
  down) lock; cmd_down ;;
  status) cmd_status ;;
  load-images) lock; cmd_load_images ;;
  build) ensure_packages; build_binaries ;;
  kubectl) shift; kctl "$@" ;;
  *) echo "usage: $0 up|down|status|load-images|build|kubectl ARGS..." >&2; exit 2 ;;
esac
