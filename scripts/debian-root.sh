#!/usr/bin/env bash
# Prints the path of a Debian 12 (bookworm) root file system for the packaging test, building
# it once with mmdebstrap from this machine's own Debian sources (the apt sources whose origin is
# Debian, as `apt-cache policy` reports them). It carries everything the causeway .deb depends on,
# because the container's only network is the test lab: `apt install ./causeway_….deb` inside it
# resolves every dependency from what is already installed, exactly as on a user's machine.
#
# Cached outside the repository ($CAUSEWAY_NSPAWN_CACHE, default /var/cache/causeway-nspawn),
# one directory per package list; the test never writes into it (it boots an overlay on top).
set -euo pipefail

suite=bookworm
# systemd as PID 1 with a bus; the .deb's dependencies (nodejs, nftables, systemd); the
# tools the test runs inside (ip, ping, ps).
packages=(systemd systemd-sysv dbus nodejs nftables iproute2 iputils-ping procps)

cache="${CAUSEWAY_NSPAWN_CACHE:-/var/cache/causeway-nspawn}"
key="$(printf '%s\n' "$suite" "${packages[@]}" | sha256sum | cut -c1-16)"
root="$cache/$suite-$key"
if [ -f "$root/.causeway-complete" ]; then
  echo "$root"
  exit 0
fi

for tool in mmdebstrap systemd-nspawn; do
  if ! command -v "$tool" >/dev/null; then
    echo "debian-root: $tool is missing (scripts/install-test-deps.sh installs it)" >&2
    exit 1
  fi
done

# "deb URI SUITE COMPONENT" for each Debian archive apt uses here: the line before each
# `release …o=Debian…n=<suite>…` line of apt-cache policy names its URI and suite/component.
sources="$(apt-cache policy | awk -v suite="$suite" '
  /^ *[0-9]+ [a-z]+:\/\// { uri = $2; dist = $3; next }
  /release / && /o=Debian/ && uri != "" {
    n = $0; sub(/.*n=/, "", n); sub(/,.*/, "", n)
    if (n == suite || n == suite "-updates" || n == suite "-security") {
      split(dist, p, "/"); line = "deb " uri " " p[1] " " p[2]
      if (!(line in seen)) { seen[line] = 1; print line }
    }
    uri = ""
  }')"
if [ -z "$sources" ]; then
  echo "debian-root: no Debian $suite archive in this machine's apt sources (run apt-get update)" >&2
  exit 1
fi

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
list="$tmp/sources.list"
printf '%s\n' "$sources" > "$list"
echo "debian-root: building $root (mmdebstrap, ${packages[*]})" >&2
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$tmp/root" "$list" >&2
touch "$tmp/root/.causeway-complete"
mv "$tmp/root" "$root"
echo "$root"
