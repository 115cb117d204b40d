#!/bin/sh
# Makes a development TLS certificate for echo-server with openssl: a private
# CA, a server certificate and a client certificate it signs. Never for
# production, never committed.
#   scripts/dev-cert.sh DIR [NAME...]
# Writes DIR/ca.pem (give it to clients: echo-client --tls --tls-ca=DIR/ca.pem;
# and to the server for mutual TLS: echo-server --tls-client-ca=DIR/ca.pem),
# DIR/server.pem and DIR/server.key (echo-server --tls-certificate, --tls-private-key),
# DIR/client.pem and DIR/client.key (echo-client --tls-certificate, --tls-private-key:
# CN "echod development client", a SPIFFE ID as its URI name, ECHOD_CLIENT_SPIFFE_ID,
# default spiffe://echod.test/ns/default/sa/echo-client).
# The certificate names localhost, server, echo-server, 127.0.0.1 and ::1, plus
# each NAME (a host name or an IP address). Leaves an existing set alone.
# ECHOD_CERT_NAMES replaces those default names (subjectAltName syntax).
# ECHOD_CERT_DAYS (default 825) sets its life; a negative number makes an
# expired one (the tests use that).
set -eu
dir=${1:?usage: dev-cert.sh DIR [NAME...]}
shift
days=${ECHOD_CERT_DAYS:-825}
spiffe=${ECHOD_CLIENT_SPIFFE_ID:-spiffe://echod.test/ns/default/sa/echo-client}
if [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] && [ -s "$dir/ca.pem" ] &&
  [ -s "$dir/client.pem" ] && [ -s "$dir/client.key" ]; then
  echo "dev-cert: $dir already has a certificate; leaving it" >&2
  exit 0
fi
command -v openssl >/dev/null || { echo "dev-cert: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names=${ECHOD_CERT_NAMES:-"DNS:localhost,DNS:server,DNS:echo-server,IP:127.0.0.1,IP:::1"}
for name in "$@"; do
  case "$name" in
    *[!0-9.:a-fA-F]* | "") names="$names,DNS:$name" ;;
    *) names="$names,IP:$name" ;;
  esac
done
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
  -subj "/CN=echod development CA" -keyout "$work/ca.key" -out "$work/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
# issue NAME COMMON_NAME SUBJECT_ALT_NAMES EXTENDED_KEY_USAGE: NAME.key and NAME.pem, signed by the CA.
issue() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -subj "/CN=$2" -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
    "$3" "$4" > "$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -sha256 -days "$days" -extfile "$work/$1.ext" -out "$work/$1.pem" 2>/dev/null
}
issue server "echod development server" "$names" serverAuth
issue client "echod development client" "URI:$spiffe" clientAuth
# The CA's key is not kept: nothing else is ever signed with it.
cp "$work/server.key" "$dir/server.key"
cp "$work/client.key" "$dir/client.key"
cp "$work/ca.pem" "$dir/ca.pem"
cp "$work/server.pem" "$dir/server.pem"
cp "$work/client.pem" "$dir/client.pem"
chmod 600 "$dir/server.key"
chmod 644 "$dir/ca.pem" "$dir/server.pem" "$dir/client.pem"
chmod 600 "$dir/client.key"
echo "dev-cert: wrote $dir/server.pem, $dir/server.key, $dir/client.pem, $dir/client.key and $dir/ca.pem" \
  "(names: $names; client: $spiffe)" >&2
