#!/usr/bin/env bash
# Builds the "AWS-like endpoint" openvpn server: Debian's own openvpn source package with
# raise-limits.patch applied (128 KiB passwords, 256 KiB control-channel messages gathered
# across TLS records, u16 or AWS u32 key-method-2 framing). Stock openvpn refuses any password
# over about 1.6 KB, so a SAML response (9-128 KB) can only reach a server built this way.
#
# The binary is cached under <repo>/.cache/openvpn-patched/<source version>-<patch hash>/ and
# reused while the patch is unchanged. Prints the binary's path on its last line of output.
# Needs root the first time (deb-src list, apt-get source, -dev packages).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
patch="$here/raise-limits.patch"
patch_id=$(sha256sum "$patch" | cut -c1-12)

# A binary built from this patch is reused without asking apt anything (another job may be
# updating the package lists right now). Delete .cache/openvpn-patched to rebuild after a Debian
# openvpn update.
for cached in "$repo"/.cache/openvpn-patched/*-"$patch_id"/openvpn; do
  if [ -x "$cached" ]; then
    echo "$cached"
    exit 0
  fi
done

# Debian's deb-src entries, kept in our own file so nothing else in /etc/apt changes.
sources=/etc/apt/sources.list.d/causeway-deb-src.sources
ensure_deb_src() {
  if apt-cache showsrc openvpn >/dev/null 2>&1 && apt-cache showsrc openvpn | grep -q '^Package: openvpn'; then
    return
  fi
  [ "$(id -u)" -eq 0 ] || { echo "build.sh: need root once to add deb-src entries ($sources)" >&2; exit 1; }
  cat >"$sources" <<'EOF'
# Added by Causeway's test/peers/openvpn-patched/build.sh: source packages for its patched openvpn test server.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq
}

ensure_deb_src
version=$(apt-cache showsrc openvpn | awk '/^Version:/ { print $2 }' | sort -V | tail -1)
out="$repo/.cache/openvpn-patched/${version}-${patch_id}"
if [ -x "$out/openvpn" ]; then
  echo "$out/openvpn"
  exit 0
fi

# Only what a minimal server build needs (no lzo/lz4/pkcs11/dco/plugins).
need=(build-essential dpkg-dev pkg-config autoconf automake libtool libssl-dev libcap-ng-dev)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "build.sh: missing build packages: ${missing[*]}" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/causeway-openvpn-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt drops privileges to _apt for downloads; a root-owned mktemp dir would only warn.
chmod 755 "$work"
apt-get source -qq "openvpn=$version" >/dev/null 2>&1
src=$(find "$work" -maxdepth 1 -type d -name 'openvpn-*' | head -1)
[ -n "$src" ] || { echo "build.sh: apt-get source openvpn produced no source tree" >&2; exit 1; }
cd "$src"
patch -p1 --quiet <"$patch"
./configure --disable-lzo --disable-lz4 --disable-plugins --disable-pkcs11 --disable-dco \
  --disable-plugin-auth-pam --disable-plugin-down-root --disable-systemd >"$work/configure.log" 2>&1 \
  || { tail -20 "$work/configure.log" >&2; exit 1; }
nice make -j"$(nproc)" -C src/compat >"$work/make.log" 2>&1 && nice make -j"$(nproc)" -C src/openvpn >>"$work/make.log" 2>&1 \
  || { tail -30 "$work/make.log" >&2; exit 1; }

mkdir -p "$out"
install -m 0755 src/openvpn/openvpn "$out/openvpn.tmp"
mv "$out/openvpn.tmp" "$out/openvpn"
echo "$out/openvpn"
