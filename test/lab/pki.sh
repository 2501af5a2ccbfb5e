#!/usr/bin/env bash
# Makes a throw-away PKI in DIR: a client CA with good (alice, bob, ci-bot), revoked (carol) and
# expired (dave) client certificates and a CRL; a rogue CA with mallory; a server certificate
# for localhost/127.0.0.1. Used by fixture scripts and end-to-end tests.
set -euo pipefail
dir=$1
mkdir -p "$dir" && cd "$dir"
[[ -f done ]] && exit 0
q() { "$@" >/dev/null 2>&1 || { echo "pki: failed: $*" >&2; "$@"; exit 1; }; }

mkca() { # name subject
  q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
mkca ca "/O=Podwatch Test/CN=Podwatch Test Client CA"
mkca rogue "/O=Evil/CN=Rogue CA"
mkca server-ca "/O=Podwatch Test/CN=Podwatch Test Server CA"

mkdir -p db && : > db/index.txt && echo 1000 > db/serial && echo 1000 > db/crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca = client_ca
[client_ca]
dir = .
database = db/index.txt
serial = db/serial
crlnumber = db/crlnumber
new_certs_dir = db
certificate = ca.crt
private_key = ca.key
default_md = sha256
default_days = 365
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[client_ext]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
CNF

client() { # name OU [extra ca args...]
  local name=$1 ou=$2; shift 2
  q openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/O=Podwatch Test/OU=$ou/CN=$name"
  q openssl ca -batch -config ca.cnf -extensions client_ext -in "$name.csr" -out "$name.crt" -notext "$@"
}
client alice ops
client bob ops
client ci-bot ci
client carol ops
client dave ops -startdate 20200101000000Z -enddate 20210101000000Z
q openssl ca -batch -config ca.cnf -revoke carol.crt
q openssl ca -batch -config ca.cnf -gencrl -out ca.crl

q openssl req -newkey rsa:2048 -nodes -keyout mallory.key -out mallory.csr -subj "/O=Evil/CN=mallory"
q openssl x509 -req -in mallory.csr -CA rogue.crt -CAkey rogue.key -CAcreateserial -out mallory.crt -days 365

q openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
q openssl x509 -req -in server.csr -CA server-ca.crt -CAkey server-ca.key -CAcreateserial -out server.crt -days 825 -extfile server.ext
rm -f ./*.csr
touch done
