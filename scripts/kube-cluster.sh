#!/usr/bin/env bash
# A single-node Kubernetes cluster built from source, for the Kubernetes target's end-to-end tests.
#
#   kube-cluster.sh build    build etcd, the Kubernetes components, CoreDNS and a pause image
#   kube-cluster.sh start    start the cluster (idempotent); prints KUBECONFIG=<file>
#   kube-cluster.sh status   exit 0 when the node is Ready and DNS answers
#   kube-cluster.sh stop     stop it and remove everything it created
#   kube-cluster.sh import   IMAGE...  load images from the Docker engine into the cluster
#
# The whole node lives in a network namespace of its own (`minio-sse-kes-kube`) and, through it, in a
# mount namespace of its own: the bridge, the pods, kube-proxy's iptables rules, the forwarding
# switch and every mount stay inside and vanish with it. The machine is reached through one veth
# pair; its kernel settings and resolver are never written (the kubelet finds the settings it wants
# to change masked by files of the namespace). Addresses: node and pods 10.233.0.0/24 (node
# 10.233.0.1, also the DNS server), Services 10.233.1.0/24, veth link 10.233.255.0/30 (machine side
# .1). Binaries and caches live under ${MINIO_SSE_KES_CACHE:-~/.cache/minio-sse-kes}/kube; the running
# cluster's state under its `run` folder, removed by stop.
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
KUBERNETES_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.0 # the etcd server release Kubernetes $KUBERNETES_VERSION pins
COREDNS_VERSION=v1.14.7
DEBIAN_PACKAGES="containerd containernetworking-plugins iptables conntrack openssl iproute2 util-linux"

here=$(cd "$(dirname "$0")" && pwd)
cache=${MINIO_SSE_KES_CACHE:-$HOME/.cache/minio-sse-kes}
kube=$cache/kube
bin=$kube/bin
run=$kube/run
NS=minio-sse-kes-kube
NODE=minio-sse-kes-node
NODE_IP=10.233.0.1
POD_CIDR=10.233.0.0/24
SERVICE_CIDR=10.233.1.0/24
API_SERVICE_IP=10.233.1.1
LINK_HOST=10.233.255.1
LINK_NODE=10.233.255.2
HOST_VETH=msk-kube0
CLUSTER_DOMAIN=cluster.local
CGROUP_ROOT=minio-sse-kes-kube
PAUSE_IMAGE=docker.io/local/pause:1
PV_COUNT=${MINIO_SSE_KES_KUBE_PVS:-24}
export GOMODCACHE=$cache/gomod GOCACHE=$cache/gocache GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0

log() { echo "kube-cluster: $*" >&2; }
fail() { log "$*"; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is required ($2)"; }
in_ns() { ip netns exec "$NS" "$@"; }
kubectl() { "$bin/kubectl" --kubeconfig "$run/pki/admin.kubeconfig" "$@"; }

# ---------------------------------------------------------------------------------------------- build

install_debian_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables-restore >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return
  need apt-get "to install ${missing[*]}"
  log "installing ${missing[*]} (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
}

# Builds the main packages `$@` of module directory $1 into $bin, once per input fingerprint.
go_build() {
  local dir=$1 stamp=$2; shift 2
  if [ -f "$bin/.$stamp" ] && [ "$(cat "$bin/.$stamp")" = "$(fingerprint "$dir")" ]; then
    log "$stamp already built"
    return
  fi
  need go "to build $stamp (Debian: apt-get install golang)"
  log "building $stamp (a cold build takes minutes)"
  local flags="-s -w"
  case $stamp in kubernetes*)
    local v=${KUBERNETES_VERSION#v} x
    for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      flags+=" -X $x.gitVersion=$KUBERNETES_VERSION -X $x.gitMajor=${v%%.*} -X $x.gitMinor=$(echo "$v" | cut -d. -f2) -X $x.gitTreeState=clean"
    done
  esac
  (cd "$dir" && go build -mod=mod -trimpath -ldflags "$flags" -o "$bin/" "$@") || fail "building $stamp failed"
  fingerprint "$dir" > "$bin/.$stamp"
}
fingerprint() { cat "$1/go.mod" "$1"/*/main.go | sha256sum | cut -c1-16; }

# A module of our own that requires k8s.io/kubernetes and replaces each of its local-path staging
# modules with the published release of the same version.
kubernetes_module() {
  local dir=$kube/src-kubernetes-$KUBERNETES_VERSION gomod
  mkdir -p "$dir/etcd"
  gomod=$( (cd /tmp && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION") | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$gomod" ] || fail "cannot download k8s.io/kubernetes@$KUBERNETES_VERSION"
  cp "$here/kube/etcd/main.go" "$dir/etcd/main.go"
  {
    printf 'module minio-sse-kes.local/kubernetes\n\ngo 1.26.0\n\nrequire (\n'
    printf '\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n' "$KUBERNETES_VERSION" "$ETCD_VERSION"
    sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod" | while read -r m; do
      printf '\t%s => %s %s\n' "$m" "$m" "$KUBERNETES_STAGING_VERSION"
    done
    printf ')\n'
  } > "$dir/go.mod.want"
  # go build -mod=mod adds the requirements it resolves; only a changed wish starts afresh.
  if ! cmp -s "$dir/go.mod.want" "$dir/go.mod.base" 2>/dev/null; then
    cp "$dir/go.mod.want" "$dir/go.mod" && cp "$dir/go.mod.want" "$dir/go.mod.base" && rm -f "$dir/go.sum"
  fi
  echo "$dir"
}

small_module() { # name requirement version
  local dir=$kube/src-$1
  mkdir -p "$dir/$1"
  cp "$here/kube/$1/main.go" "$dir/$1/main.go"
  printf 'module minio-sse-kes.local/%s\n\ngo 1.26.0\n' "$1" > "$dir/go.mod.want"
  [ -n "$2" ] && printf '\nrequire %s %s\n' "$2" "$3" >> "$dir/go.mod.want"
  if ! cmp -s "$dir/go.mod.want" "$dir/go.mod.base" 2>/dev/null; then
    cp "$dir/go.mod.want" "$dir/go.mod" && cp "$dir/go.mod.want" "$dir/go.mod.base" && rm -f "$dir/go.sum"
  fi
  echo "$dir"
}

# The pause image as an OCI archive: one layer holding /pause.
pause_image() {
  local out=$kube/images/pause.oci.tar
  [ -f "$out" ] && [ "$out" -nt "$bin/pause" ] && return
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/root" "$tmp/oci/blobs/sha256" "$kube/images"
  cp "$bin/pause" "$tmp/root/pause"
  tar -C "$tmp/root" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$tmp/layer.tar" pause
  local layer layer_size config config_size manifest manifest_size
  layer=$(sha256sum < "$tmp/layer.tar" | cut -d' ' -f1); layer_size=$(stat -c %s "$tmp/layer.tar")
  mv "$tmp/layer.tar" "$tmp/oci/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$tmp/config"
  config=$(sha256sum < "$tmp/config" | cut -d' ' -f1); config_size=$(stat -c %s "$tmp/config")
  mv "$tmp/config" "$tmp/oci/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" > "$tmp/manifest"
  manifest=$(sha256sum < "$tmp/manifest" | cut -d' ' -f1); manifest_size=$(stat -c %s "$tmp/manifest")
  mv "$tmp/manifest" "$tmp/oci/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$PAUSE_IMAGE" > "$tmp/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci/oci-layout"
  tar -C "$tmp/oci" -cf "$out.part" . && mv "$out.part" "$out"
  rm -rf "$tmp"
}

cmd_build() {
  install_debian_packages
  mkdir -p "$bin"
  local dir
  dir=$(kubernetes_module)
  go_build "$dir" "kubernetes-$KUBERNETES_VERSION" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
    k8s.io/kubernetes/cmd/kubectl ./etcd
  dir=$(small_module coredns github.com/coredns/coredns "$COREDNS_VERSION")
  go_build "$dir" "coredns-$COREDNS_VERSION" ./coredns
  dir=$(small_module pause "" "")
  go_build "$dir" pause ./pause
  pause_image
  log "built into $bin"
}

# ---------------------------------------------------------------------------------------------- start

built() {
  local f
  for f in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl coredns pause; do
    [ -x "$bin/$f" ] || fail "$bin/$f is missing: run scripts/kube-cluster.sh build first"
  done
  [ -f "$kube/images/pause.oci.tar" ] || fail "the pause image is missing: run scripts/kube-cluster.sh build first"
}

# A certificate signed by the cluster CA. name, subject, extensions (client|server + SANs).
issue_cert() {
  local name=$1 subject=$2 usage=$3 sans=${4:-}
  local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=${usage}Auth"
  [ -n "$sans" ] && ext+="
subjectAltName=$sans"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$run/pki/$name.key" \
    -subj "$subject" -out "$run/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$run/pki/$name.csr" -CA "$run/pki/ca.crt" -CAkey "$run/pki/ca.key" -CAcreateserial \
    -days 7 -extfile <(echo "$ext") -out "$run/pki/$name.crt" 2>/dev/null
  rm -f "$run/pki/$name.csr"
}

kubeconfig() { # name server
  cat > "$run/pki/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $NS
  cluster: {server: "$2", certificate-authority: "$run/pki/ca.crt"}
users:
- name: $1
  user: {client-certificate: "$run/pki/$1.crt", client-key: "$run/pki/$1.key"}
contexts:
- name: $NS
  context: {cluster: $NS, user: $1}
current-context: $NS
EOF
}

make_pki() {
  mkdir -p "$run/pki" && chmod 700 "$run/pki"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj "/CN=$NS-ca" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$run/pki/ca.key" -out "$run/pki/ca.crt" 2>/dev/null
  issue_cert apiserver "/CN=kube-apiserver" server \
    "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  issue_cert kubelet-server "/CN=$NODE" server "IP:$NODE_IP,DNS:$NODE"
  issue_cert admin "/O=system:masters/CN=$NS-admin" client
  issue_cert apiserver-kubelet "/O=system:masters/CN=kube-apiserver-kubelet-client" client
  issue_cert controller-manager "/CN=system:kube-controller-manager" client
  issue_cert scheduler "/CN=system:kube-scheduler" client
  issue_cert kubelet "/O=system:nodes/CN=system:node:$NODE" client
  issue_cert kube-proxy "/CN=system:kube-proxy" client
  issue_cert coredns "/CN=$NS:coredns" client
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$run/pki/sa.key" 2>/dev/null
  openssl pkey -in "$run/pki/sa.key" -pubout -out "$run/pki/sa.pub" 2>/dev/null
  local n
  for n in admin controller-manager scheduler kubelet kube-proxy coredns; do kubeconfig "$n" "https://$NODE_IP:6443"; done
}

write_configs() {
  mkdir -p "$run/conf" "$run/cni/net.d" "$run/containerd" "$run/kubelet" "$run/logs" "$run/volumes"
  cat > "$run/conf/containerd.toml" <<EOF
version = 2
root = "$run/containerd/root"
state = "$run/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$run/containerd/containerd.sock"
[ttrpc]
  address = "$run/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine refuses negative OOM score adjustments; keep them within what it accepts.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  # Pod network namespaces under the state folder, not in the machine's /run/netns.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$run/cni/net.d"
EOF
  cat > "$run/cni/net.d/10-$NS.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$NS",
  "plugins": [
    {
      "type": "bridge", "bridge": "kube-br0", "isGateway": true, "hairpinMode": true, "ipMasq": false,
      "ipam": {
        "type": "host-local", "dataDir": "$run/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "rangeStart": "10.233.0.10", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  : > "$run/conf/resolv.conf"
  cat > "$run/conf/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$run/pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$run/pki/kubelet-server.crt"
tlsPrivateKeyFile: "$run/pki/kubelet-server.key"
containerRuntimeEndpoint: "unix://$run/containerd/containerd.sock"
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
# This machine runs cgroup v1.
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$NODE_IP]
# Pods resolve cluster names only: nothing of the machine's resolver is handed to them.
resolvConf: "$run/conf/resolv.conf"
podLogsDir: "$run/logs/pods"
protectKernelDefaults: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 60
EOF
  cat > "$run/conf/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$run/pki/kube-proxy.kubeconfig"}
hostnameOverride: $NODE
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
oomScoreAdj: 0
# Zero leaves the machine-wide conntrack settings as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  cat > "$run/conf/Corefile" <<EOF
$CLUSTER_DOMAIN:53 {
  bind $NODE_IP
  errors
  health 127.0.0.1:8180
  ready 127.0.0.1:8181
  kubernetes $CLUSTER_DOMAIN {
    kubeconfig $run/pki/coredns.kubeconfig $NS
    ttl 5
  }
}
EOF
}

# The network namespace and its one link to the machine.
make_network() {
  ip netns add "$NS"
  ip link add "$HOST_VETH" type veth peer name uplink netns "$NS"
  ip addr add "$LINK_HOST/30" dev "$HOST_VETH"
  ip link set "$HOST_VETH" up
  in_ns ip link set lo up
  in_ns ip addr add "$LINK_NODE/30" dev uplink
  in_ns ip link set uplink up
  in_ns ip link add kube-br0 type bridge
  in_ns ip addr add "$NODE_IP/24" dev kube-br0
  in_ns ip link set kube-br0 up
  # Services answer from any pod only when the namespace forwards and bridged traffic passes
  # netfilter; both switches are this namespace's own.
  in_ns sysctl -qw net.ipv4.ip_forward=1
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1
  else
    log "warning: br_netfilter is not loaded; a pod reaching a Service that routes back to itself may fail"
  fi
  ip route add 10.233.0.0/23 via "$LINK_NODE" dev "$HOST_VETH"
}

# Runs inside the network namespace and a mount namespace of its own (mounts made here never reach
# the machine): masks the kernel settings the kubelet would rewrite, starts every component, waits.
cmd_node() {
  local f
  mkdir -p "$run/masks"
  mount --make-rprivate /proc
  for f in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
    cat "/proc/sys/$f" > "$run/masks/${f//\//.}"
    mount --bind "$run/masks/${f//\//.}" "/proc/sys/$f"
  done
  start_component() { # name command...
    local name=$1; shift
    "$@" > "$run/logs/$name.log" 2>&1 &
    echo $! > "$run/pids/$name"
  }
  mkdir -p "$run/pids"
  start_component etcd "$bin/etcd" --name "$NODE" --data-dir "$run/etcd" --unsafe-no-fsync \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381
  start_component containerd containerd --config "$run/conf/containerd.toml"
  start_component kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$NODE_IP" \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 30000-32767 \
    --tls-cert-file "$run/pki/apiserver.crt" --tls-private-key-file "$run/pki/apiserver.key" \
    --client-ca-file "$run/pki/ca.crt" --authorization-mode Node,RBAC \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$run/pki/sa.pub" --service-account-signing-key-file "$run/pki/sa.key" \
    --kubelet-client-certificate "$run/pki/apiserver-kubelet.crt" --kubelet-client-key "$run/pki/apiserver-kubelet.key" \
    --kubelet-certificate-authority "$run/pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --enable-admission-plugins NodeRestriction --profiling=false
  wait_for "the API server" 120 kubectl get --raw /readyz
  start_component kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$run/pki/controller-manager.kubeconfig" --leader-elect=false --bind-address 127.0.0.1 \
    --service-account-private-key-file "$run/pki/sa.key" --root-ca-file "$run/pki/ca.crt" \
    --use-service-account-credentials --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
  start_component kube-scheduler "$bin/kube-scheduler" --kubeconfig "$run/pki/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false
  start_component kubelet "$bin/kubelet" --config "$run/conf/kubelet.yaml" \
    --kubeconfig "$run/pki/kubelet.kubeconfig" --root-dir "$run/kubelet" --node-ip "$NODE_IP" \
    --hostname-override "$NODE"
  start_component kube-proxy "$bin/kube-proxy" --config "$run/conf/kube-proxy.yaml"
  start_component coredns "$bin/coredns" -conf "$run/conf/Corefile"
  wait
}

wait_for() { # what seconds command...
  local what=$1 limit=$2 i; shift 2
  for ((i = 0; i < limit * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "$what did not become ready within ${limit}s (logs in $run/logs)"
}

# Cluster objects the node needs: CoreDNS's read access and the PersistentVolumes claims bind to.
seed_objects() {
  {
    cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$NS:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$NS:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$NS:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "$NS:coredns"}]
EOF
    local i
    for ((i = 0; i < PV_COUNT; i++)); do
      mkdir -p "$run/volumes/pv-$i"
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: "local-$i"}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  local: {path: "$run/volumes/pv-$i"}
  nodeAffinity:
    required:
      nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: ["$NODE"]}]}]
EOF
    done
  } | kubectl apply --server-side -f - >/dev/null
}

cmd_start() {
  [ "$(id -u)" -eq 0 ] || fail "the cluster needs root (network and mount namespaces, cgroups)"
  built
  if [ -e "/run/netns/$NS" ]; then
    if cmd_status >/dev/null 2>&1; then echo "KUBECONFIG=$run/pki/admin.kubeconfig"; return; fi
    log "a previous cluster is half up; stopping it first"
    cmd_stop
  fi
  log "starting"
  rm -rf "$run" && mkdir -p "$run/logs"
  make_pki
  write_configs
  make_cgroups
  make_network
  # Not `ip netns exec`: it remounts /sys and so hides the cgroup hierarchies the kubelet needs.
  setsid nsenter --net="/run/netns/$NS" unshare --mount --propagation slave "$0" node \
    > "$run/logs/node.log" 2>&1 < /dev/null &
  echo $! > "$run/node.pid"
  wait_for "containerd" 60 test -S "$run/containerd/containerd.sock"
  wait_for "the API server" 120 kubectl get --raw /readyz
  in_ns ctr --address "$run/containerd/containerd.sock" -n k8s.io images import "$kube/images/pause.oci.tar" >/dev/null \
    || fail "importing the pause image failed"
  seed_objects
  wait_for "the node" 120 node_ready
  wait_for "cluster DNS" 60 dns_ready
  echo "KUBECONFIG=$run/pki/admin.kubeconfig"
}

node_ready() { [ "$(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
dns_ready() { in_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/8181 && printf "GET /ready HTTP/1.0\r\n\r\n" >&3 && head -1 <&3 | grep -q " 200 "'; }

# cgroup v1: one folder per hierarchy for the kubelet's cgroupRoot; v2: one folder.
cgroup_dirs() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/$CGROUP_ROOT"
  else
    local h
    for h in /sys/fs/cgroup/*/; do
      [ -L "${h%/}" ] && continue
      echo "${h}$CGROUP_ROOT"
    done
  fi
}
make_cgroups() { local d; for d in $(cgroup_dirs); do mkdir -p "$d"; done; }

cmd_status() {
  [ -e "/run/netns/$NS" ] || { echo "stopped"; return 1; }
  node_ready || { echo "starting or broken: the node is not Ready (logs in $run/logs)"; return 1; }
  dns_ready || { echo "starting or broken: DNS is not ready (logs in $run/logs)"; return 1; }
  echo "running: KUBECONFIG=$run/pki/admin.kubeconfig"
}

# --------------------------------------------------------------------------------------------- import

# Loads images from the Docker engine (built locally by scripts/images.sh) into the cluster.
cmd_import() {
  [ $# -gt 0 ] || fail "usage: kube-cluster.sh import IMAGE..."
  [ -e "/run/netns/$NS" ] || fail "the cluster is not running"
  need docker "images come from the local Docker engine"
  local image id file
  mkdir -p "$kube/images"
  for image in "$@"; do
    id=$(docker image inspect -f '{{.Id}}' "$image") || fail "no local image $image (build it with scripts/images.sh)"
    file=$kube/images/${id#sha256:}.tar
    [ -f "$file" ] || { docker save "$image" -o "$file.part" && mv "$file.part" "$file"; } || fail "docker save $image failed"
    in_ns ctr --address "$run/containerd/containerd.sock" -n k8s.io images import "$file" >/dev/null \
      || fail "importing $image failed"
    log "imported $image"
  done
}

# ----------------------------------------------------------------------------------------------- stop

cmd_stop() {
  local pid pids d
  # Pods first, so their runc processes and mounts are taken down by the runtime that made them.
  if [ -S "$run/containerd/containerd.sock" ] && [ -e "/run/netns/$NS" ]; then
    for pid in kubelet; do [ -f "$run/pids/$pid" ] && kill "$(cat "$run/pids/$pid")" 2>/dev/null || true; done
    local ctr_="in_ns ctr --address $run/containerd/containerd.sock -n k8s.io"
    for d in $($ctr_ tasks ls -q 2>/dev/null); do $ctr_ tasks kill -s SIGKILL "$d" >/dev/null 2>&1 || true; done
    sleep 1
    for d in $($ctr_ tasks ls -q 2>/dev/null); do $ctr_ tasks rm -f "$d" >/dev/null 2>&1 || true; done
  fi
  if [ -f "$run/node.pid" ]; then
    pid=$(cat "$run/node.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  # Whatever still runs inside the namespace (shims, pod processes) goes with it.
  if [ -e "/run/netns/$NS" ]; then
    pids=$(ip netns pids "$NS" 2>/dev/null || true)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  fi
  remove_cgroups
  ip link del "$HOST_VETH" 2>/dev/null || true
  [ -e "/run/netns/$NS" ] && ip netns del "$NS"
  # Shim sockets are named after the containerd address; only ours go.
  rm -rf "$run"
  log "stopped"
}

# Deepest first: a cgroup folder can only be removed once it has no children and no processes.
remove_cgroups() {
  local d p
  for d in $(cgroup_dirs); do
    [ -d "$d" ] || continue
    for p in $(find "$d" -name cgroup.procs 2>/dev/null); do
      xargs -r kill -KILL < "$p" 2>/dev/null || true
    done
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$d" ] && log "warning: $d could not be removed"
  done
  return 0
}

case ${1:-} in
  build) cmd_build ;;
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  import) shift; cmd_import "$@" ;;
  node) cmd_node ;;
  *) echo "usage: $0 build|start|status|stop|import IMAGE..." >&2; exit 2 ;;
esac
