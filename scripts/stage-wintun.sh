#!/usr/bin/env bash
# Copies wintun.dll (WireGuard LLC's signed build, bundled in the `wintun` crate) from cargo's
# registry to native/target/wintun/, where electron-builder takes it for the Windows package
# (resources/windows/service.md). The crate is fetched for the Windows target if it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(awk '/^name = "wintun"$/{getline; gsub(/"/, "", $3); print $3; exit}' native/Cargo.lock)
[ -n "$version" ] || { echo "stage-wintun: native/Cargo.lock has no wintun" >&2; exit 1; }
find_dll() { ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"wintun-$version"/wintun/bin/amd64/wintun.dll 2>/dev/null | head -1; }
dll=$(find_dll)
if [ -z "$dll" ]; then
  cargo fetch --manifest-path native/Cargo.toml --target x86_64-pc-windows-gnu >/dev/null
  dll=$(find_dll)
fi
[ -n "$dll" ] || { echo "stage-wintun: wintun $version has no bundled wintun.dll" >&2; exit 1; }
mkdir -p native/target/wintun
cp "$dll" native/target/wintun/wintun.dll
cp "$(dirname "$dll")/../../LICENSE.txt" native/target/wintun/wintun-LICENSE.txt
echo "stage-wintun: native/target/wintun/wintun.dll from wintun $version"
