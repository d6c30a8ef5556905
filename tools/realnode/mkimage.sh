#!/usr/bin/env bash
# Writes a one-layer OCI image layout tar (for `ctr images import`) from one static binary.
#   mkimage.sh pause|busybox|busybox-without-nsenter BINARY IMAGE_NAME OUT.tar
# busybox: /bin/busybox plus a link per applet. busybox-without-nsenter: the same, with the
# nsenter applet renamed inside the binary (the shell would otherwise run it as a builtin), to test
# what the product does with an image that has no nsenter.
set -euo pipefail
kind="$1" bin="$2" name="$3" out="$4"
w="$(mktemp -d)"; trap 'rm -rf "$w"' EXIT
mkdir -p "$w/root" "$w/layout/blobs/sha256"
case "$kind" in
  pause)
    install -m 0755 "$bin" "$w/root/pause"
    entry='["/pause"]'; cmd='null' ;;
  busybox|busybox-without-nsenter)
    mkdir -p "$w/root/bin" "$w/root/tmp" "$w/root/etc"
    install -m 0755 "$bin" "$w/root/bin/busybox"
    if [ "$kind" = busybox-without-nsenter ]; then
      perl -0777 -pi -e 's/\0nsenter\0/\0nsentez\0/' "$w/root/bin/busybox"
      if "$w/root/bin/busybox" nsenter --help >/dev/null 2>&1; then echo "nsenter still in busybox" >&2; exit 1; fi
    fi
    for a in $("$w/root/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$w/root/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$w/root/etc/passwd"
    printf 'root:x:0:\n' > "$w/root/etc/group"
    chmod 1777 "$w/root/tmp"
    entry='null'; cmd='["/bin/sh"]' ;;
  *) echo "unknown image kind: $kind" >&2; exit 1 ;;
esac
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/root" -cf "$w/layer.tar" .
blob() { # file -> prints sha256 and size, stores the blob
  local d; d="$(sha256sum "$1" | cut -d' ' -f1)"
  cp "$1" "$w/layout/blobs/sha256/$d"
  echo "$d $(stat -c %s "$1")"
}
read -r ld ls < <(blob "$w/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":%s,"Cmd":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$entry" "$cmd" "$ld" > "$w/config.json"
read -r cd cs < <(blob "$w/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$cd" "$cs" "$ld" "$ls" > "$w/manifest.json"
read -r md ms < <(blob "$w/manifest.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$md" "$ms" "$name" "${name##*:}" > "$w/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$w/layout/oci-layout"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/layout" -cf "$out.tmp" .
mv "$out.tmp" "$out"
