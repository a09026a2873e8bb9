#!/usr/bin/env bash
# How long README's first command takes on a fresh Debian 12 machine: debootstraps bookworm
# (minbase) into a scratch directory, copies this checkout's HEAD into it, and runs
# `scripts/demo.sh` there in a chroot, printing the seconds from its start to the end of the
# package install, to the demo's first line and to its first window. Arguments go to the demo
# (default: --duration 30s). Needs root and Debian's mirror; removes everything it made. The time
# is only meaningful on an otherwise idle machine, and the install part depends on the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "fresh-demo-time.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
[ $# -gt 0 ] || set -- --duration 30s

if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
root=$(mktemp -d /var/tmp/trimtab-fresh-XXXXXX)
cleanup() {
  umount "$root/dev/pts" "$root/dev" "$root/proc" 2>/dev/null || true
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "debootstrap bookworm into $root (not timed: it stands for the fresh machine)"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
# The fresh machine's apt sources as this one has them (updates and security included).
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  rm -f "$root/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/root/trimtab"
git archive HEAD | tar -x -C "$root/root/trimtab"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  /bin/bash -c 'cd /root/trimtab && exec scripts/demo.sh "$@"' demo "$@" 2>&1 |
  python3 -u -c '
import re, sys, time
start = time.monotonic()
marks = {"installed": None, "first demo line": None, "first window": None}
for line in sys.stdin:
    now = time.monotonic() - start
    if marks["installed"] is None and re.match(r"\[\d+/\d+\]", line):
        marks["installed"] = now  # the first compile step: apt is done
    if marks["first demo line"] is None and line.startswith("demo service on "):
        marks["first demo line"] = now
    if marks["first window"] is None and re.match(r"^\s*\d+\.\ds  .* ->  ", line):
        marks["first window"] = now
    sys.stdout.write(f"{now:7.1f}  {line}")
print()
for what, at in marks.items():
    print(f"{what:<18} " + ("not seen" if at is None else f"{at:.0f} s after scripts/demo.sh started"))
'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
