#!/usr/bin/env bash
# Installs the Debian packages the cross-process test suites need, idempotently: nothing is
# downloaded when every package is already present. Needs root to install; without root it
# only reports what is missing (the suites that need these also need root and will skip).
set -euo pipefail

packages=(
  # the namespace lab and the stock openvpn peer
  openvpn easy-rsa openssl iproute2 iputils-ping iperf3 procps nftables tcpdump
  # browsers for e2e and SSO tests (driven by playwright-core)
  chromium
  # SimpleSAMLphp identity provider
  php-cli php-xml php-mbstring php-curl simplesamlphp
  # a real Secret Service for SecretStore tests
  gnome-keyring dbus dbus-x11 libsecret-tools
  # DNS, leak, service and packaging tests: systemd-analyze/-sysusers (and the systemd version
  # whose systemd-resolved is unpacked privately), useradd, setpriv/unshare (never the
  # systemd-resolved package itself: it would take over the host's resolv.conf)
  systemd passwd util-linux
  # packaging: a Debian 12 root booted under systemd-nspawn (scripts/debian-root.sh), rpm's
  # own tools for the .rpm
  systemd-container mmdebstrap rpm
  # real proxies for the proxy tests, started by the tests themselves (test/peers/lab/proxies.ts)
  squid dante-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "test prerequisites: all ${#packages[@]} Debian packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "test prerequisites: missing ${missing[*]} (not root, so not installing; root suites will skip)"
  exit 0
fi

echo "test prerequisites: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test prerequisites: installed"
