#!/bin/sh
# Generates the TLS fixtures of the gateway identity tests into test/fixtures/tls/ (committed:
# tests never generate certificates or touch the network). Run from the repository root:
#   sh scripts/gen-test-certs.sh
# Every certificate is valid for 100 years except client-expired.pem (expired in 2001). The CA
# keys are thrown away: re-running the script replaces every file.
set -eu

OUT=test/fixtures/tls
DAYS=36500
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

# ca NAME CN: a self-signed CA; its key stays in $WORK.
ca() {
  key "$WORK/$1.key"
  openssl req -x509 -new -key "$WORK/$1.key" -subj "/CN=$2" -days "$DAYS" -out "$OUT/$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# leaf NAME CA SUBJECT EXTENSIONS: a certificate signed by CA, its key in $OUT/NAME-key.pem.
leaf() {
  key "$OUT/$1-key.pem"
  openssl req -new -key "$OUT/$1-key.pem" -subj "$3" -out "$WORK/$1.csr"
  printf 'basicConstraints=CA:FALSE\n%s\n' "$4" >"$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$OUT/$2.pem" -CAkey "$WORK/$2.key" -CAcreateserial \
    -days "$DAYS" -extfile "$WORK/$1.ext" -out "$OUT/$1.pem" 2>/dev/null
}

CLIENT_EXT='extendedKeyUsage=clientAuth'

ca server-ca 'Weir test server CA'
ca client-ca 'Weir test client CA'
ca other-ca 'Some other CA'

# The gateway's own certificate (clients check it with server-ca.pem).
leaf proxy server-ca /CN=localhost \
  "extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

leaf client-spiffe client-ca /CN=not-the-identity \
  "$CLIENT_EXT
subjectAltName=URI:spiffe://test/ns/app/sa/web,DNS:web.test"
leaf client-cn client-ca '/O=Weir tests/CN=legacy-batch' "$CLIENT_EXT"
leaf client-two-spiffe client-ca /CN=two \
  "$CLIENT_EXT
subjectAltName=URI:spiffe://test/ns/app/sa/web,URI:spiffe://test/ns/app/sa/admin"
leaf client-bad-spiffe client-ca /CN=bad \
  "$CLIENT_EXT
subjectAltName=URI:spiffe://test/ns/../sa/web"
leaf client-untrusted other-ca /CN=untrusted \
  "$CLIENT_EXT
subjectAltName=URI:spiffe://test/ns/app/sa/web"

# The expired client certificate: only `openssl ca` takes explicit dates (OpenSSL 3.0).
key "$OUT/client-expired-key.pem"
openssl req -new -key "$OUT/client-expired-key.pem" -subj /CN=expired -out "$WORK/expired.csr"
: >"$WORK/index.txt"
cat >"$WORK/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
database = $WORK/index.txt
new_certs_dir = $WORK
serial = $WORK/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
$CLIENT_EXT
subjectAltName = URI:spiffe://test/ns/app/sa/web
EOF
echo 01 >"$WORK/serial"
openssl ca -batch -config "$WORK/ca.cnf" -cert "$OUT/client-ca.pem" -keyfile "$WORK/client-ca.key" \
  -startdate 20000101000000Z -enddate 20010101000000Z -extensions ext -notext \
  -in "$WORK/expired.csr" -out "$OUT/client-expired.pem" 2>/dev/null

rm -f "$OUT"/*.srl
echo "wrote $(ls "$OUT" | wc -l) files to $OUT"
