#!/usr/bin/env bash
# Installs cargo-fuzz (from crates.io, pinned) for the `fuzz` suite of `npm test`, idempotently:
# nothing is built when the pinned version is already on PATH. libFuzzer needs nightly compiler
# features; the suite gets them from the stable toolchain with RUSTC_BOOTSTRAP=1.
set -euo pipefail

version=0.13.2
if command -v cargo-fuzz >/dev/null 2>&1 && cargo fuzz --version 2>/dev/null | grep -q " ${version}\$"; then
  echo "fuzz prerequisites: cargo-fuzz ${version} present"
  exit 0
fi
echo "fuzz prerequisites: installing cargo-fuzz ${version}"
cargo install --locked --quiet --version "${version}" cargo-fuzz
