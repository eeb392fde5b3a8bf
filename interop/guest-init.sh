#!/bin/busybox sh
# /init of the interop guest: mounts, modules, network (QEMU user networking: the host's
# 127.0.0.1 is 10.0.2.2), then /run.sh from the per-run archive; its output goes to the
# serial console, which the host keeps. Always powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in e1000 usb-common usbcore usbip-core vhci-hcd; do insmod /lib/modules/$m.ko || echo "HIL-GUEST insmod $m failed"; done
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
echo "HIL-GUEST-UP $(cat /proc/uptime | cut -d' ' -f1)"
if [ -f /run.sh ]; then
  sh /run.sh
  echo "HIL-RUN-EXIT $?"
else
  echo "HIL-RUN-EXIT 127 (no /run.sh)"
fi
sync
poweroff -f
