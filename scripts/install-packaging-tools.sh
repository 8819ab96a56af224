#!/usr/bin/env bash
# Installs the tool `npm run dist:linux` packages with — nfpm, pinned, from the Go module proxy
# (`go install`) — into a cache outside the repository, and prints its path. Nothing is
# downloaded when the pinned version is already there.
#   cache: $CAUSEWAY_TOOLS_CACHE, else /var/cache/causeway-tools as root, else
#          ${XDG_CACHE_HOME:-~/.cache}/causeway-tools
set -euo pipefail

NFPM_VERSION=v2.45.2

if [ -n "${CAUSEWAY_TOOLS_CACHE:-}" ]; then
  cache="$CAUSEWAY_TOOLS_CACHE"
elif [ "$(id -u)" -eq 0 ]; then
  cache=/var/cache/causeway-tools
else
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/causeway-tools"
fi
bin="$cache/nfpm-$NFPM_VERSION/bin"

if [ ! -x "$bin/nfpm" ]; then
  # The Go toolchain's usual home when it is not on PATH (as under a service manager).
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; fi
  if ! command -v go >/dev/null; then
    echo "install-packaging-tools: nfpm is built with Go, which is not installed (https://go.dev/doc/install)" >&2
    exit 1
  fi
  echo "install-packaging-tools: go install nfpm@$NFPM_VERSION into $bin" >&2
  mkdir -p "$bin"
  GOBIN="$bin" go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" >&2
fi
echo "$bin/nfpm"
