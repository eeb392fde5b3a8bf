#!/usr/bin/env bash
# Builds the interop guest: Debian's stock kernel (resolved from linux-image-amd64, never a
# hard-coded ABI) plus a busybox initramfs with usbip, dfu-util and their libraries, and the
# kernel modules for networking (e1000), USB/IP (usbcore, vhci-hcd) and 9p host shares.
# Installs the Debian packages it needs when missing. Output (cached, git-ignored):
#   $OUT/vmlinuz  $OUT/initrd.img  $OUT/stamp
# Usage: interop/build-guest.sh [OUT]   (default .tmp/interop/guest)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.tmp/interop/guest}
export DEBIAN_FRONTEND=noninteractive

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v usbip >/dev/null 2>&1 || [ -x /usr/sbin/usbip ] || need+=(usbip)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx cpio || need+=(busybox-static)
command -v dfu-util >/dev/null 2>&1 || need+=(dfu-util)
if [ ${#need[@]} -gt 0 ]; then
  echo "build-guest: installing ${need[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The kernel package the current linux-image-amd64 metapackage points to.
abi_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$abi_pkg" ]; then
  apt-get update -qq
  abi_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$abi_pkg" ] || { echo "build-guest: cannot resolve linux-image-amd64" >&2; exit 1; }
stamp="$abi_pkg $(sha256sum "$0" | cut -c1-16)"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; then
  echo "build-guest: cached ($stamp)" >&2
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT" "$work/deb"
echo "build-guest: fetching $abi_pkg" >&2
(cd "$work/deb" && apt-get download -q "$abi_pkg" 2>/dev/null >/dev/null)
deb=$(ls "$work"/deb/*.deb)
modules=(e1000 usb-common usbcore usbip-core vhci-hcd
  virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
  9pnet 9pnet_virtio netfs fscache 9p)
patterns=('./boot/vmlinuz-*')
for m in "${modules[@]}"; do patterns+=("*/$m.ko"); done
mkdir -p "$work/k"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/k" --wildcards "${patterns[@]}"

root="$work/root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib/modules,usr/share/hwdata,var/run}
cp /bin/busybox "$root/bin/busybox"
for m in "${modules[@]}"; do cp "$(find "$work/k" -name "$m.ko" | head -1)" "$root/lib/modules/$m.ko"; done
usbip_bin=$(command -v usbip || echo /usr/sbin/usbip)
for exe in "$usbip_bin" "$(command -v dfu-util)"; do
  cp "$exe" "$root/bin/"
  for lib in $(ldd "$exe" | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
[ -f /usr/share/hwdata/usb.ids ] && cp /usr/share/hwdata/usb.ids "$root/usr/share/hwdata/" || true
ln -sf /proc/mounts "$root/etc/mtab"
cp interop/guest-init.sh "$root/init"
chmod +x "$root/init"

(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd.img"
cp "$(find "$work/k" -name 'vmlinuz-*' | head -1)" "$OUT/vmlinuz"
mv "$work/initrd.img" "$OUT/initrd.img"
echo "$stamp" >"$OUT/stamp"
echo "build-guest: built $OUT ($stamp; initrd $(du -k "$OUT/initrd.img" | cut -f1) KiB)" >&2
