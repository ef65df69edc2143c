#!/bin/bash
# The certificates tests/fuzz/fuzz_ocsp_staple.c checks staples against, and its seed
# corpus: in DIR, tests/tls-certs.sh's server CA, gateway certificate and revoked
# gateway certificate; in DIR/seeds, real OCSP responses for the two made by
# openssl's responder (offline, from the server CA's index, as tests/unit/test_tls.c
# makes its staples): good.der says good for server.crt, revoked.der revoked for
# server-revoked.crt.  Their nextUpdate is a day on: make them again after that.
# usage: tests/fuzz/ocsp-staple-seeds.sh DIR
set -eu
dir=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
"$here/tests/tls-certs.sh" "$dir" 1
mkdir -p "$dir/seeds"
cd "$dir"
for pair in server:good server-revoked:revoked; do
    n=${pair%%:*}; out=seeds/${pair#*:}.der
    openssl ocsp -issuer server-ca.crt -cert "$n.crt" -reqout "$n.req" -no_nonce >/dev/null 2>&1
    openssl ocsp -index ca-server-ca/index.txt -rsigner server-ocsp.crt -rkey server-ocsp.key -CA server-ca.crt \
        -reqin "$n.req" -respout "$out" -ndays 1 >/dev/null 2>&1
    [ -s "$out" ] || { echo "ocsp-staple-seeds.sh: openssl made no response for $n" >&2; exit 1; }
done
