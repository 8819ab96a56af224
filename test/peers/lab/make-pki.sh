#!/usr/bin/env bash
# The one throwaway PKI of every cross-process test (the TypeScript lab's pki.ts and the Rust
# interop lab both call it): generated at test time with openssl and `openvpn --genkey`, so
# nothing secret is ever committed. Usage: make-pki.sh DIR (created, mode 700). Files in DIR:
#   ca.crt/.key            the lab CA (EC P-256)
#   other-ca.crt/.key      a CA that signed nothing the server uses
#   server.crt/.key        CN "server", EKU serverAuth, RSA 2048
#   server-expired.crt/.key same CA and CN, valid only in 2020
#   server-revoked.crt/.key same CA and CN, valid, revoked in crl.pem
#   crl.pem                the CA's revocation list (v2: a crlnumber makes openssl write v2)
#   server-self-signed     CN "selfsigned", serverAuth, issued by no CA (peer-fingerprint setups)
#   client-rsa, client-ec  client certificates (EKU clientAuth) from the lab CA
#   client-other-ca        a client certificate from other-ca
#   ta.key, tc.key         tls-auth and tls-crypt keys
#   v2-server.key, v2-client.key  tls-crypt-v2 server key and a client key wrapped by it
set -euo pipefail

dir=${1:?usage: make-pki.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

cat >ca.cnf <<CNF
[ca]
default_ca = lab

[lab]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none

[any]
commonName = supplied

[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
: >index.txt
echo 1000 >serial
echo 01 >crlnumber

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
q() { openssl "$@" 2>/dev/null; }

ca() { # name cn
  q req -x509 "${ec[@]}" -nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

leaf() { # name cn rsa|ec server_ext|client_ext signing-ca [start end]
  local key=("${ec[@]}")
  [ "$3" = rsa ] && key=(-newkey rsa:2048)
  q req -new "${key[@]}" -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  # One after another: `openssl ca` updates the shared serial and index files.
  q ca -batch -notext -config ca.cnf -cert "$5.crt" -keyfile "$5.key" -in "$1.csr" -out "$1.crt" \
    -extensions "$4" -startdate "${6:-$(stamp yesterday)}" -enddate "${7:-$(stamp '+730 days')}"
}

ca ca 'Causeway Lab CA'
ca other-ca 'Causeway Other CA'
leaf server server rsa server_ext ca
leaf server-expired server ec server_ext ca 20200101000000Z 20210101000000Z
leaf server-revoked server ec server_ext ca
q ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -revoke server-revoked.crt
q ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -gencrl -crldays 30 -out crl.pem
q req -x509 "${ec[@]}" -nodes -keyout server-self-signed.key -out server-self-signed.crt -days 365 \
  -subj /CN=selfsigned -addext basicConstraints=critical,CA:FALSE \
  -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth
leaf client-rsa client-rsa rsa client_ext ca
leaf client-ec client-ec ec client_ext ca
leaf client-other-ca client-other-ca ec client_ext other-ca
openvpn --genkey secret ta.key >/dev/null
openvpn --genkey tls-crypt tc.key >/dev/null
openvpn --genkey tls-crypt-v2-server v2-server.key >/dev/null
openvpn --tls-crypt-v2 v2-server.key --genkey tls-crypt-v2-client v2-client.key >/dev/null
chmod 600 ./*.key
