#!/usr/bin/env bash
# Installs what `npm run bench` needs beyond the test prerequisites, idempotently:
#  - Debian packages: wireguard-tools (`wg`, to configure wireguard-go), linux-perf (syscall
#    counts), iperf3;
#  - wireguard-go, the reference userspace tunnel, built from its Go module at a pinned version
#    into .cache/bench/bin (the Go toolchain's configured module proxy supplies the source).
# Prints the path of the wireguard-go binary on its last line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# wireguard-go has no tagged releases newer than 2023; pin the module version we measured with.
wireguard_go_version="v0.0.0-20260522210424-ecfc5a8d5446"
bin_dir="$root/.cache/bench/bin"
stamp="$bin_dir/wireguard-go.version"

packages=(wireguard-tools linux-perf iperf3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench prerequisites: missing ${missing[*]} and not root" >&2
    exit 1
  fi
  echo "bench prerequisites: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

if [ ! -x "$bin_dir/wireguard" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wireguard_go_version" ]; then
  go=$(command -v go || true)
  [ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
  if [ -z "$go" ]; then
    echo "bench prerequisites: wireguard-go needs a Go toolchain (go 1.23+) on PATH" >&2
    exit 1
  fi
  echo "bench prerequisites: building wireguard-go $wireguard_go_version" >&2
  mkdir -p "$bin_dir"
  (cd /tmp && GOFLAGS=-buildvcs=false GOBIN="$bin_dir" "$go" install "golang.zx2c4.com/wireguard@$wireguard_go_version") >&2
  echo "$wireguard_go_version" >"$stamp"
fi
echo "$bin_dir/wireguard"
