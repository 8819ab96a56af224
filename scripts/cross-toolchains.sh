#!/usr/bin/env bash
# Sets up what checking native/ for Windows and macOS, and testing it for Windows under wine,
# needs on this Debian 12 machine, from Debian's own packages only, idempotently:
#
#  - Rust 1.96 with its std source and clippy (bookworm-security's rustc-web, cargo-web,
#    rust-web-src, rust-web-clippy). `-Zbuild-std` needs a std source that matches the compiler
#    exactly, and rustup's toolchain here has none. These packages would install /usr/bin/cargo
#    and /usr/bin/rustc beside rustup's, so they are fetched with `apt-get download` (verified
#    against apt's signed indexes) and unpacked into the cache, never installed: the normal build
#    keeps rustup's toolchain.
#  - mingw-w64 gcc and binutils (the linker and dlltool for x86_64-pc-windows-gnu), wine64 (runs
#    the Windows test binaries), clang-14 and llvm-14 (ring's C for the Apple targets), installed
#    with apt.
#  - In the cache: a wine prefix holding a `bcryptprimitives.dll` that exports ProcessPrng (Rust
#    std >= 1.78 imports it; wine 8.0 lacks it and such an exe exits 53 at start), and stand-ins
#    for the four macOS SDK headers ring's C includes (there is no Apple SDK here: the Apple
#    targets are checked, never linked).
#
# Writes $CACHE/env: KEY='VALUE' lines (a shell can `set -a; . env`) that point cargo at all of it, and
# CROSS_BIN, the folder to put first on PATH (so `cargo clippy` finds 1.96's cargo-clippy, not
# rustup's proxy). The `targets` suite of scripts/test.mjs reads them. The cache lives outside the repository:
# CAUSEWAY_CROSS_CACHE, default /var/cache/causeway-cross. Needs root the first time (apt).
set -euo pipefail

CACHE=${CAUSEWAY_CROSS_CACHE:-/var/cache/causeway-cross}
RUST_VERSION=1.96
apt_packages=(gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 wine64 clang-14 llvm-14)

log() { echo "cross-toolchains: $*"; }
die() { echo "cross-toolchains: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=
apt_update_once() {
  [ -n "$apt_updated" ] && return
  apt-get update -qq
  apt_updated=1
}

install_apt_packages() {
  local missing=() p
  for p in "${apt_packages[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages ${missing[*]} (run as root to install them)"
  log "installing ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The version apt would install, refusing anything but the Rust the workspace is checked with.
rust_candidate() {
  local v
  v=$(apt-cache policy rustc-web | awk '/Candidate:/{print $2}')
  case "$v" in
    "$RUST_VERSION".*) echo "$v" ;;
    *) return 1 ;;
  esac
}

# rustc-web and its libraries, unpacked into $CACHE/rust-<version>. The libraries listed are
# the ones the binaries need that a Debian 12 base system lacks (LLVM 22, libgit2 and its TLS).
unpack_rust() {
  local v dest debs
  v=$(rust_candidate) || { apt_update_once; v=$(rust_candidate); } ||
    die "apt offers no rustc-web $RUST_VERSION (is bookworm-security in the apt sources?)"
  dest=$CACHE/rust-$v
  RUST_ROOT=$dest/usr
  [ -x "$RUST_ROOT/bin/cargo" ] && [ -f "$dest/.complete" ] && return
  log "fetching rustc-web $v"
  debs=$CACHE/debs/rust-$v
  rm -rf "$dest" "$debs"
  mkdir -p "$debs"
  local llvm
  llvm=$(apt-cache show "libstd-rust-web-$RUST_VERSION=$v" | awk -F': ' '/^Depends:/{print $2; exit}' | grep -o 'libllvm[0-9]*')
  (cd "$debs" && apt-get download -qq \
    "rustc-web=$v" "cargo-web=$v" "rust-web-src=$v" "rust-web-clippy=$v" \
    "libstd-rust-web-dev=$v" "libstd-rust-web-$RUST_VERSION=$v" "$llvm" \
    libgit2-1.5 libhttp-parser2.9 libmbedtls14 libmbedx509-1 libmbedcrypto7 2>&1 | grep -v 'unsandboxed' || true)
  local d
  for d in "$debs"/*.deb; do dpkg -x "$d" "$dest"; done
  rm -rf "$debs"
  touch "$dest/.complete"
}

# wine 8.0 has no ProcessPrng; this DLL forwards it to SystemFunction036 (RtlGenRandom), which
# wine has. Built with mingw, placed in the prefix's system32.
prepare_wine_prefix() {
  WINEPREFIX=$CACHE/wine-prefix
  local dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
  [ -f "$dll" ] && return
  log "preparing the wine prefix"
  mkdir -p "$CACHE/src"
  cat >"$CACHE/src/bcryptprimitives.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
EOF
  x86_64-w64-mingw32-gcc-posix -O2 -shared -o "$CACHE/src/bcryptprimitives.dll" "$CACHE/src/bcryptprimitives.c" -ladvapi32
  WINEPREFIX=$WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || true
  WINEPREFIX=$WINEPREFIX /usr/lib/wine/wineserver64 -w
  cp "$CACHE/src/bcryptprimitives.dll" "$dll"
}

# ring's C includes only these from the SDK; without a sysroot clang would read glibc's headers.
write_macos_headers() {
  MAC_SYSROOT=$CACHE/macos-sysroot
  local inc=$MAC_SYSROOT/usr/include
  [ -f "$inc/assert.h" ] && return
  mkdir -p "$inc"
  cat >"$inc/TargetConditionals.h" <<'EOF'
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_VISION 0
#define TARGET_OS_SIMULATOR 0
#define TARGET_OS_MACCATALYST 0
EOF
  cat >"$inc/string.h" <<'EOF'
#pragma once
#include <stddef.h>
void *memcpy(void *restrict, const void *restrict, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *);
EOF
  # x86_64: immintrin.h includes mm_malloc.h, which wants these
  cat >"$inc/stdlib.h" <<'EOF'
#pragma once
#include <stddef.h>
void *malloc(size_t);
void free(void *);
int posix_memalign(void **, size_t, size_t);
void abort(void) __attribute__((noreturn));
EOF
  cat >"$inc/assert.h" <<'EOF'
#pragma once
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __builtin_trap())
#endif
EOF
}

write_env() {
  local bin=$RUST_ROOT/bin
  mkdir -p "$CACHE/bin"
  # cargo runs Windows test binaries through this
  cat >"$CACHE/bin/wine-runner" <<EOF
#!/bin/sh
export WINEPREFIX=$WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
exec /usr/lib/wine/wine64 "\$@"
EOF
  chmod +x "$CACHE/bin/wine-runner"
  local mac="-isysroot $MAC_SYSROOT"
  cat >"$CACHE/env.tmp" <<EOF
CROSS_BIN='$bin'
LD_LIBRARY_PATH='$RUST_ROOT/lib/x86_64-linux-gnu'
CARGO='$bin/cargo'
RUSTC='$bin/rustc'
RUSTDOC='$bin/rustdoc'
RUSTC_BOOTSTRAP='1'
CARGO_TARGET_DIR='${CAUSEWAY_CROSS_TARGET_DIR:-$CACHE/target}'
WINEPREFIX='$WINEPREFIX'
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER='x86_64-w64-mingw32-gcc-posix'
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER='$CACHE/bin/wine-runner'
CC_x86_64_pc_windows_gnu='x86_64-w64-mingw32-gcc-posix'
AR_x86_64_pc_windows_gnu='x86_64-w64-mingw32-ar'
CC_aarch64_apple_darwin='clang-14'
AR_aarch64_apple_darwin='llvm-ar-14'
CFLAGS_aarch64_apple_darwin='$mac'
CC_x86_64_apple_darwin='clang-14'
AR_x86_64_apple_darwin='llvm-ar-14'
CFLAGS_x86_64_apple_darwin='$mac'
EOF
  mv "$CACHE/env.tmp" "$CACHE/env"
}

mkdir -p "$CACHE"
install_apt_packages
unpack_rust
prepare_wine_prefix
write_macos_headers
write_env
LD_LIBRARY_PATH=$RUST_ROOT/lib/x86_64-linux-gnu "$RUST_ROOT/bin/rustc" -V | sed 's/^/cross-toolchains: ready: /'
log "environment in $CACHE/env"
