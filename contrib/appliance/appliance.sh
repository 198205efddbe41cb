#!/usr/bin/env bash
# Phoenix as the init of a small appliance, booted under qemu (docs/appliance.md).
#
#   appliance.sh fetch [--cache DIR]
#       Debian's kernel (linux-image-amd64 and the linux-image-6.x it depends on) and
#       busybox-static, downloaded with `apt-get download` and unpacked into the cache
#       (default target/appliance). Nothing is installed on this machine. Idempotent.
#   appliance.sh build --out FILE [--cache DIR] [--bin DIR] [--units DIR] [--config FILE]
#                      [--module NAME]... [--file SRC=DEST]...
#       An initramfs (newc cpio, uncompressed) with Phoenix as /init: phoenix,
#       phoenix-rescue and phoenixctl from --bin (default target/debug), the shared
#       libraries they need (ldd), busybox and its applets in /bin, the units of --units
#       (default contrib/appliance/services.d) in /etc/phoenix/services.d, --config
#       (default contrib/appliance/phoenix.toml) as /etc/phoenix/phoenix.toml. Each
#       --module (a kernel module of the cached kernel, e.g. i6300esb) is loaded by a
#       two-line /init that then execs Phoenix, still PID 1. Each --file copies SRC to
#       DEST (absolute) in the image, replacing what was there.
#   appliance.sh boot [--cache DIR] [--initrd FILE] [--append TEXT] [-- QEMU-ARGS...]
#       qemu-system-x86_64 -kernel … -initrd … -nographic -no-reboot: the serial console
#       on this terminal; poweroff or reboot in the guest ends qemu. TCG unless
#       PHOENIX_APPLIANCE_ACCEL=kvm.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${PHOENIX_APPLIANCE_DIR:-$root/target/appliance}"

die() {
  echo "appliance.sh: $*" >&2
  exit 1
}

fetch() {
  if [ -f "$cache/vmlinuz" ] && [ -x "$cache/busybox" ] && [ -d "$cache/modules" ]; then
    return 0
  fi
  command -v apt-get >/dev/null || die "fetch needs apt-get (Debian or Ubuntu)"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  # apt-get download runs as _apt where it can: let it write here.
  chmod 777 "$work"
  (
    cd "$work"
    local image
    apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt-get update -qq
    # linux-image-amd64 is a metapackage: the kernel is the linux-image-6.x it depends on.
    image="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
    [ -n "$image" ] || die "apt-cache finds no kernel behind linux-image-amd64 (apt-get update?)"
    apt-get download "$image" busybox-static >/dev/null
    dpkg-deb -x linux-image-*.deb kernel
    dpkg-deb -x busybox-static_*.deb busybox
  )
  mkdir -p "$cache/modules"
  cp "$work"/kernel/boot/vmlinuz-* "$cache/vmlinuz"
  local modules
  modules="$(echo "$work"/kernel/lib/modules/*/kernel)"
  for module in drivers/watchdog/watchdog.ko drivers/watchdog/i6300esb.ko drivers/watchdog/softdog.ko; do
    cp "$modules/$module" "$cache/modules/"
  done
  cp "$work/busybox/bin/busybox" "$cache/busybox"
  echo "appliance.sh: kernel $(basename "$(echo "$work"/kernel/boot/vmlinuz-*)") and busybox in $cache"
}

# Copies a program and the shared libraries it needs (by ldd) into the tree.
install_program() {
  local program="$1" tree="$2" dest="$3"
  mkdir -p "$tree/$(dirname "$dest")"
  cp "$program" "$tree/$dest"
  # Debug builds carry their symbols: without them the image is several times smaller.
  strip --strip-debug "$tree/$dest" 2>/dev/null || true
  local library
  for library in $(ldd "$program" 2>/dev/null | grep -o '/[^ ]*'); do
    if [ ! -e "$tree/$library" ]; then
      mkdir -p "$tree/$(dirname "$library")"
      cp -L "$library" "$tree/$library"
    fi
  done
}

build() {
  local out="" bin="$root/target/debug" units="$here/services.d" config="$here/phoenix.toml"
  local modules=() files=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --cache) cache="$2"; shift 2 ;;
      --bin) bin="$2"; shift 2 ;;
      --units) units="$2"; shift 2 ;;
      --config) config="$2"; shift 2 ;;
      --module) modules+=("$2"); shift 2 ;;
      --file) files+=("$2"); shift 2 ;;
      *) die "build: unknown argument '$1'" ;;
    esac
  done
  [ -n "$out" ] || die "build needs --out FILE"
  [ -x "$cache/busybox" ] || die "no busybox in $cache: run 'appliance.sh fetch' first"
  command -v cpio >/dev/null || die "build needs cpio"
  local tree
  tree="$(mktemp -d)"
  trap 'rm -rf "$tree"' RETURN
  # No /run: stage 1 makes the mount points it needs.
  mkdir -p "$tree"/{bin,sbin,usr/bin,dev,proc,sys,tmp,var/lib,etc/phoenix/services.d,lib/modules}
  install_program "$bin/phoenix" "$tree" sbin/phoenix
  install_program "$bin/phoenix-rescue" "$tree" sbin/phoenix-rescue
  install_program "$bin/phoenixctl" "$tree" usr/bin/phoenixctl
  cp "$cache/busybox" "$tree/bin/busybox"
  local applet
  for applet in $("$cache/busybox" --list); do
    [ -e "$tree/bin/$applet" ] || ln -s busybox "$tree/bin/$applet"
  done
  cp -r "$units"/. "$tree/etc/phoenix/services.d/"
  cp "$config" "$tree/etc/phoenix/phoenix.toml"
  echo appliance >"$tree/etc/hostname"
  # The kernel opens /dev/console for init before anything is mounted, and Rust's runtime
  # wants /dev/null for any standard descriptor that is closed.
  mknod -m 600 "$tree/dev/console" c 5 1
  mknod -m 666 "$tree/dev/null" c 1 3
  if [ ${#modules[@]} -eq 0 ]; then
    ln -s sbin/phoenix "$tree/init"
  else
    {
      echo '#!/bin/busybox sh'
      for module in watchdog "${modules[@]}"; do
        cp "$cache/modules/$module.ko" "$tree/lib/modules/"
        echo "/bin/busybox insmod /lib/modules/$module.ko"
      done
      echo 'exec /sbin/phoenix "$@"'
    } >"$tree/init"
    chmod 755 "$tree/init"
  fi
  local file
  # Last: a --file replaces anything above, /init included.
  for file in "${files[@]}"; do
    mkdir -p "$tree/$(dirname "${file#*=}")"
    rm -rf "${tree:?}/${file#*=}"
    cp "${file%%=*}" "$tree/${file#*=}"
  done
  (cd "$tree" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
}

boot() {
  local initrd="$cache/initramfs.cpio" append="console=ttyS0 panic=-1 quiet"
  while [ $# -gt 0 ]; do
    case "$1" in
      --cache) cache="$2"; shift 2 ;;
      --initrd) initrd="$2"; shift 2 ;;
      --append) append="$2"; shift 2 ;;
      --) shift; break ;;
      *) die "boot: unknown argument '$1'" ;;
    esac
  done
  [ -f "$cache/vmlinuz" ] || die "no kernel in $cache: run 'appliance.sh fetch' first"
  exec qemu-system-x86_64 -accel "${PHOENIX_APPLIANCE_ACCEL:-tcg}" -m 512M \
    -kernel "$cache/vmlinuz" -initrd "$initrd" -append "$append" \
    -nographic -no-reboot "$@"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  fetch)
    while [ $# -gt 0 ]; do
      case "$1" in
        --cache) cache="$2"; shift 2 ;;
        *) die "fetch: unknown argument '$1'" ;;
      esac
    done
    fetch
    ;;
  build) build "$@" ;;
  boot) boot "$@" ;;
  *) die "usage: appliance.sh fetch|build|boot [OPTIONS] (see the top of this file)" ;;
esac
