#!/bin/bash
# Make the certificates the TLS tests use, in DIR (never committed): a server CA
# and the gateway's certificate (CN localhost, SAN 127.0.0.1), a device root CA
# and devices signed by it (dev-0..dev-N-1), an expired device, a revoked one
# (in the device CA's index, for `openssl ocsp -index`), a device of a foreign CA.
# EC P-256 keys.  The device CA signs through `openssl ca`, so its index lists
# every device an OCSP responder answers for: ca-device-ca/index.txt, signed by
# ocsp.crt/ocsp.key (an OCSP signing certificate of the device CA); the server CA
# likewise (ca-server-ca/index.txt, server-ocsp.crt), for stapling; in it too a
# revoked gateway certificate (server-revoked) and one for another name
# (server-other: CN and SAN other.example, for the terminals' host name check).
# usage: tests/tls-certs.sh DIR [N_DEVICES]
set -eu
dir=$1; n=${2:-1}
mkdir -p "$dir"; cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name cn
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -out "$1.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
sign() { # name cn ca [days|expired]
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "${SAN:-DNS:localhost,IP:127.0.0.1}" >"$1.ext"
    if [ "$3" = device-ca ] || [ "$3" = server-ca ]; then
        mkdir -p "ca-$3"; [ -f "ca-$3/index.txt" ] || : >"ca-$3/index.txt"
        printf '[ca]\ndefault_ca=d\n[d]\ndatabase=ca-%s/index.txt\nnew_certs_dir=ca-%s\nserial=ca-%s/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' "$3" "$3" "$3" >"ca-$3.cnf"
        [ -f "ca-$3/serial" ] || echo 1000 >"ca-$3/serial"
        local dates=(-days 7)
        # expired: valid from 2 days ago to yesterday (x509 cannot set a past end)
        [ "${4:-}" = expired ] && dates=(-startdate "$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)")
        [ "${4:-}" = ocsp ] && printf 'extendedKeyUsage=OCSPSigning\n' >>"$1.ext"
        openssl ca -batch -notext -config "ca-$3.cnf" -cert "$3.crt" -keyfile "$3.key" -in "$1.csr" -out "$1.crt" \
            "${dates[@]}" -extfile "$1.ext" 2>/dev/null
    else
        openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days "${4:-7}" \
            -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    fi
    rm -f "$1.csr" "$1.ext"
}
ca server-ca "fleetsim test server CA"
sign server localhost server-ca
sign server-ocsp "server CA OCSP responder" server-ca ocsp
SAN=DNS:other.example sign server-other other.example server-ca
sign server-revoked localhost server-ca
openssl ca -config ca-server-ca.cnf -cert server-ca.crt -keyfile server-ca.key -revoke server-revoked.crt 2>/dev/null
ca device-ca "fleetsim test device root CA"
ca foreign-ca "another CA"
sign foreign "foreign device" foreign-ca
sign expired "expired device" device-ca expired
sign ocsp "device CA OCSP responder" device-ca ocsp
sign revoked "revoked device" device-ca
openssl ca -config ca-device-ca.cnf -cert device-ca.crt -keyfile device-ca.key -revoke revoked.crt 2>/dev/null
for ((i = 0; i < n; i++)); do sign "dev-$i" "device $i" device-ca; done
