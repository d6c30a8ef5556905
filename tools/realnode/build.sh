#!/usr/bin/env bash
# Builds what a real test node needs (test/harness/realnode.ts): a Debian bookworm disk image
# with a cloud kernel, containerd 2 (built from the Go module proxy), runc, CNI plugins,
# unattended-upgrades, the kubelet (built from the control plane's Kubernetes release), locally
# built pause and busybox OCI images, and a second kernel .deb staged in the disk for the tests.
# Cached in ~/.cache/reboot-pilot/realnode/<key>/, one marker per step; idempotent: a warm
# cache returns in about a second. Needs root (debootstrap, chroot), debootstrap, e2fsprogs
# (mkfs.ext4 -d, debugfs), Go, and the control plane's wrapper module (tools/controlplane/build.sh
# runs first). Prints progress on stderr and the disk image path on its last stdout line.
# A failure names the step that failed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.4.2}"
SUITE=bookworm
MIRROR="${REALNODE_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${REALNODE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Base kernel: bookworm's cloud kernel. Second kernel: a bookworm-security cloud kernel the tests
# install with dpkg -i (cloud flavour: 6 MB initramfs, about 2 minutes to install under TCG).
PACKAGES="systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,zstd,kmod,iproute2,\
unattended-upgrades,ca-certificates,runc,containernetworking-plugins,iptables,procps,conntrack,\
ethtool,socat,util-linux"
KERNEL_B="${REALNODE_KERNEL_B:-linux-image-6.1.0-57-cloud-amd64}"
# The product's default image name (settings.ts), so the probe runs with its default pod spec.
BUSYBOX_IMAGE="${REALNODE_BUSYBOX_IMAGE:-mcr.microsoft.com/azurelinux/busybox:1.36}"
NO_NSENTER_IMAGE="rp.test/busybox-without-nsenter:1"
PAUSE_IMAGE="registry.k8s.io/pause:3.10.1"

CACHE_ROOT="${REBOOT_PILOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reboot-pilot}"
KEY_TEXT="$K8S_VERSION $CONTAINERD_VERSION $SUITE $PACKAGES $KERNEL_B $BUSYBOX_IMAGE $PAUSE_IMAGE"
KEY="k8s-${K8S_VERSION}_containerd-${CONTAINERD_VERSION}_$(printf '%s' "$KEY_TEXT" | sha256sum | cut -c1-12)"
OUT="$CACHE_ROOT/realnode/$KEY"
# The disk also depends on the files this script copies into it.
OVERLAY_HASH="$(cd "$HERE" && { cat build.sh mkimage.sh; find rootfs -type f | sort | xargs cat; } | sha256sum | cut -c1-12)"
DISK="$OUT/disk-$OVERLAY_HASH.img"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
START=$(date +%s)
STEP=""
log() { printf '[realnode %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
trap 'rc=$?; [ $rc -eq 0 ] || log "FAILED at step: ${STEP:-setup} (exit $rc); see the lines above"' EXIT
step() { STEP="$1"; log "$1"; }
done_mark() { touch "$OUT/.$1.done"; }
is_done() { [ -f "$OUT/.$1.done" ]; }

if [ -f "$DISK" ] && [ -f "$DISK.complete" ]; then
  log "cache hit: $DISK"
  echo "$DISK"; exit 0
fi
[ "$(id -u)" = 0 ] || { log "root is needed (debootstrap, chroot)"; exit 1; }
for t in debootstrap mkfs.ext4 debugfs go zstd; do
  command -v "$t" >/dev/null || { log "missing tool: $t"; exit 1; }
done
mkdir -p "$OUT/bin" "$OUT/images" "$OUT/debs"

# debootstrap mounts /proc and /sys in the tree; one killed midway may leave them mounted.
unmount_rootfs() {
  local m
  for m in $(findmnt -rn -o TARGET | grep "^$OUT/rootfs/" | sort -r); do umount -l "$m"; done
  if findmnt -rn -o TARGET | grep -q "^$OUT/rootfs/"; then log "still mounted under $OUT/rootfs"; return 1; fi
}

rootfs() {
  is_done rootfs && return
  unmount_rootfs
  step "rootfs: debootstrap $SUITE (minbase + $PACKAGES; cold: about 5 minutes)"
  rm -rf "$OUT/rootfs"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$OUT/rootfs" "$MIRROR" \
    >"$OUT/debootstrap.log" 2>&1 || { tail -30 "$OUT/debootstrap.log" >&2; return 1; }
  done_mark rootfs
}

# The second kernel and busybox-static come from the archive through the rootfs's own apt.
downloads() {
  is_done downloads && return
  step "downloads: $KERNEL_B (bookworm-security) and busybox-static"
  local r="$OUT/rootfs"
  printf 'deb %s %s main\ndeb %s %s-security main\n' "$MIRROR" "$SUITE" "$SECURITY_MIRROR" "$SUITE" \
    > "$r/etc/apt/sources.list"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  chroot "$r" apt-get -qq update >"$OUT/apt.log" 2>&1 || { cat "$OUT/apt.log" >&2; return 1; }
  (cd "$OUT/debs" && rm -f ./*.deb && chroot "$r" sh -c "cd /tmp && apt-get -qq download $KERNEL_B busybox-static" \
    && mv "$r"/tmp/*.deb .) || return 1
  rm -rf "$r"/var/lib/apt/lists/* "$r/etc/resolv.conf"
  ls "$OUT/debs"/linux-image-*.deb >/dev/null && ls "$OUT/debs"/busybox-static_*.deb >/dev/null
  done_mark downloads
}

containerd_bin() {
  is_done containerd && return
  step "containerd $CONTAINERD_VERSION: go install from the module proxy (cold: about 2.5 minutes)"
  local ld="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
  for c in containerd containerd-shim-runc-v2 ctr; do
    GOBIN="$OUT/bin" go install -trimpath -tags no_btrfs -ldflags "$ld" \
      "github.com/containerd/containerd/v2/cmd/$c@$CONTAINERD_VERSION"
  done
  done_mark containerd
}

# The kubelet is built in a copy of the control plane's wrapper module (same go.mod/go.sum, so
# the same module versions and the same Go build cache).
kubelet_bin() {
  is_done kubelet && return
  local cpout cpdir waited=0
  cpout="$CACHE_ROOT/controlplane/$(ls "$CACHE_ROOT/controlplane" 2>/dev/null | grep "^k8s-${K8S_VERSION}_" | head -1)"
  cpdir="$cpout/src/k8s"
  [ -f "$cpdir/go.sum" ] || { log "no control plane wrapper module for $K8S_VERSION in $cpdir (run tools/controlplane/build.sh first)"; return 1; }
  # A control plane build still running shares the Go build cache: let it finish first.
  while [ ! -f "$cpout/.complete" ]; do
    [ $waited -lt 3600 ] || { log "the control plane build in $cpout did not finish"; return 1; }
    [ $((waited % 60)) -eq 0 ] && log "kubelet: waiting for the control plane build to finish"
    sleep 10; waited=$((waited + 10))
  done
  step "kubelet $K8S_VERSION: go build in the control plane's wrapper module copy (cold: several minutes)"
  local dir="$OUT/src/kubelet" minor patch
  minor="$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
  mkdir -p "$dir"
  sed 's#^module .*#module rebootpilot.local/realnode/kubelet#' "$cpdir/go.mod" > "$dir/go.mod"
  cp "$cpdir/go.sum" "$dir/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubelet"\n' > "$dir/tools.go"
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log") || { cat "$dir/tidy.log" >&2; return 1; }
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=${K8S_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$OUT/bin/kubelet.tmp" k8s.io/kubernetes/cmd/kubelet)
  mv "$OUT/bin/kubelet.tmp" "$OUT/bin/kubelet"
  done_mark kubelet
}

images() {
  is_done images && return
  step "images: pause ($PAUSE_IMAGE, Go, static) and busybox-static ($BUSYBOX_IMAGE, $NO_NSENTER_IMAGE)"
  local w="$OUT/src/images"; rm -rf "$w"; mkdir -p "$w/pause" "$w/bb"
  cp "$HERE/pause.go" "$w/pause/main.go"
  printf 'module rebootpilot.local/realnode/pause\n\ngo 1.24\n' > "$w/pause/go.mod"
  (cd "$w/pause" && go build -trimpath -ldflags "-s -w" -o "$w/pause.bin" .)
  dpkg-deb -x "$OUT"/debs/busybox-static_*.deb "$w/bb"
  bash "$HERE/mkimage.sh" pause "$w/pause.bin" "$PAUSE_IMAGE" "$OUT/images/pause.tar"
  bash "$HERE/mkimage.sh" busybox "$w/bb/bin/busybox" "$BUSYBOX_IMAGE" "$OUT/images/busybox.tar"
  bash "$HERE/mkimage.sh" busybox-without-nsenter "$w/bb/bin/busybox" "$NO_NSENTER_IMAGE" "$OUT/images/busybox-without-nsenter.tar"
  done_mark images
}

disk() {
  step "disk: overlay, binaries, images, kernel .deb; mkfs.ext4 -d (4 GiB sparse)"
  local r="$OUT/rootfs"
  unmount_rootfs
  cp -a "$HERE/rootfs/." "$r/"
  chmod 0755 "$r"/usr/local/sbin/* 2>/dev/null || true
  install -m 0755 "$OUT"/bin/{kubelet,containerd,containerd-shim-runc-v2,ctr} "$r/usr/local/bin/"
  mkdir -p "$r/opt/rp/images" "$r/opt/rp/debs" "$r/var/log/journal" "$r/var/lib/rp" "$r/etc/kubernetes"
  cp "$OUT"/images/*.tar "$r/opt/rp/images/"
  rm -f "$r"/opt/rp/debs/*.deb; cp "$OUT"/debs/linux-image-*.deb "$r/opt/rp/debs/"
  # Later kernel installs in the guest: only the modules this machine needs, zstd.
  sed -i 's/^MODULES=.*/MODULES=dep/; s/^#\?COMPRESS=.*/COMPRESS=zstd/' "$r/etc/initramfs-tools/initramfs.conf"
  echo rpnode > "$r/etc/hostname"
  printf 'nameserver 127.0.0.1\n' > "$r/etc/resolv.conf"
  : > "$r/etc/machine-id"
  chroot "$r" systemctl enable systemd-networkd containerd kubelet rp-images rp-console rp-boots >/dev/null 2>&1
  chroot "$r" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    systemd-timesyncd.service getty@tty1.service serial-getty@ttyS0.service >/dev/null 2>&1
  chroot "$r" passwd -d root >/dev/null
  dpkg-query --admindir="$r/var/lib/dpkg" -W -f '${Package} ${Version}\n' > "$OUT/packages.txt"
  readlink "$r/vmlinuz" >/dev/null || { log "the rootfs has no /vmlinuz symlink"; return 1; }
  rm -f "$OUT"/disk-*.img "$OUT"/disk-*.img.complete
  mkfs.ext4 -q -F -L rproot -d "$r" "$DISK.tmp" 4G
  mv "$DISK.tmp" "$DISK"
  touch "$DISK.complete"
}

# debootstrap is mostly download and dpkg; the Go builds are CPU: run them side by side.
rootfs &
ROOTFS_PID=$!
containerd_bin
kubelet_bin
wait $ROOTFS_PID || { STEP="rootfs: debootstrap"; exit 1; }
downloads
images
disk
log "real node image ready in $(( $(date +%s) - START ))s: $DISK ($(du -h "$DISK" | cut -f1) used)"
echo "$DISK"
