#!/usr/bin/env bash
# Runs one test node VM and plays its bootloader: before each boot it reads the /vmlinuz and
# /initrd.img symlinks of the (raw ext4) disk with debugfs, extracts that kernel and initrd, and
# starts qemu with -no-reboot, so a reboot in the guest ends qemu and the loop boots the newest
# installed kernel, as GRUB would. Appends one line per boot to DIR/boots.log.
#   run-vm.sh DIR DISK API_PORT ACCEL(kvm|tcg) MEMORY_MB
# Networking: slirp with restrict=on (nothing leaves the VM) and a single forward,
# 10.0.2.100:6443 in the guest -> 127.0.0.1:API_PORT (the test API server).
# Consoles: ttyS0 appends to DIR/console.log; ttyS1 is the socket DIR/ttyS1.sock (test shell).
# Stops when DIR/stop exists or qemu fails; qemu dies with this script (pdeathsig).
set -uo pipefail
dir="$1" disk="$2" port="$3" accel="$4" mem="${5:-2048}"
case "$accel" in
  kvm) acc=(-accel kvm -cpu host) ;;
  *) acc=(-accel tcg,thread=multi -cpu max) ;;
esac
link() { debugfs -R "stat $1" "$disk" 2>/dev/null | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p'; }
n=0
while [ ! -e "$dir/stop" ]; do
  n=$((n + 1))
  k="$(link /vmlinuz)"; i="$(link /initrd.img)"
  [ -n "$k" ] && [ -n "$i" ] || { echo "no /vmlinuz or /initrd.img link in $disk" >> "$dir/boots.log"; exit 2; }
  debugfs -R "dump /${k#/} $dir/vmlinuz" "$disk" 2>/dev/null
  debugfs -R "dump /${i#/} $dir/initrd" "$disk" 2>/dev/null
  echo "$(date +%s) boot $n ${k##*/}" >> "$dir/boots.log"
  setpriv --pdeathsig KILL -- qemu-system-x86_64 -name "rp-node-$n" -machine q35 "${acc[@]}" \
    -m "$mem" -smp 1 -nodefaults -display none -no-reboot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.unified_cgroup_hierarchy=1 quiet" \
    -drive "file=$disk,format=raw,if=virtio" \
    -netdev "user,id=n0,restrict=on,ipv6=off,guestfwd=tcp:10.0.2.100:6443-cmd:socat - TCP:127.0.0.1:$port" \
    -device virtio-net-pci,netdev=n0 -device virtio-rng-pci \
    -chardev "file,id=s0,path=$dir/console.log,append=on" -serial chardev:s0 \
    -chardev "socket,id=s1,path=$dir/ttyS1.sock,server=on,wait=off" -serial chardev:s1 \
    >> "$dir/qemu.log" 2>&1
  rc=$?
  echo "$(date +%s) exit $n $rc" >> "$dir/boots.log"
  [ $rc -eq 0 ] || exit $rc
done
