#!/bin/bash
# sig_fixtures.sh - make a test PKI with openssl and sign PE fixtures with
# osslsigncode, for the signature tests (unit/authenticode, the osslsigncode
# cross-check, the fuzz seeds and the Windows tests).
#
#   sig_fixtures.sh OUT_DIR PE_FIXTURE COUNTERSIGN
#
# PE_FIXTURE and COUNTERSIGN are the test tools tests/tools/pe_fixture_tool.c
# and tests/tools/countersign.c. Everything is made fresh in OUT_DIR:
#   pki/         the certificates and keys (see below)
#   trust.pem    the trust store of the tests: the test root alone
#   *.exe *.dll  the fixtures, listed with what they are in fixtures.txt
#
# The PKI (all RSA 2048, SHA-256; validity in brackets):
#   root        "TMI Test Root CA"                       [2010, 2045]
#   inter       "TMI Test Code Signing CA" (by root)     [2010, 2045]
#   leaf        "TMI Test Publisher" (by inter)          [2020, 2045] codeSigning
#   noeku       "TMI Test Web Server" (by inter)         [2020, 2045] serverAuth only
#   oldca       "TMI Test Code Signing CA 2010" (root)   [2010, mid-2020]: expired
#   oldleaf     "TMI Test Publisher 2015" (by oldca)     [2015, 2018]: expired
#   tsa         "TMI Test Timestamping Authority" (root) [2010, 2045] timeStamping
#   other-root  "TMI Other Root CA" (not trusted)        [2010, 2045]
#   other-inter, other-leaf: a chain to other-root
# Timestamps are made offline: RFC 3161 tokens by osslsigncode's built-in TSA
# (-TSA-certs/-TSA-key/-TSA-time), PKCS#9 countersignatures by COUNTERSIGN.
# Exit: 0 made, 1 a step failed, 2 usage.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 OUT_DIR PE_FIXTURE COUNTERSIGN" >&2
    exit 2
fi
out=$1
fixture=$2
countersign=$3
here=$(cd "$(dirname "$0")" && pwd)
tamper="/usr/bin/python3 $here/sig_tamper.py"
for tool in openssl osslsigncode; do
    command -v "$tool" >/dev/null || {
        echo "sig-fixtures: $tool is not installed (cmake/dev.sh test installs it)" >&2
        exit 1
    }
done

rm -rf "$out"
mkdir -p "$out/pki/newcerts"
pki=$out/pki
: >"$pki/index.txt"
echo 1000 >"$pki/serial"
cat >"$pki/ca.cnf" <<'EOF'
[ ca ]
default_ca = tca
[ tca ]
database = $ENV::PKI/index.txt
new_certs_dir = $ENV::PKI/newcerts
serial = $ENV::PKI/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
email_in_dn = no
[ pol ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_ca ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_noeku ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
export PKI=$pki

# cert NAME SUBJECT ISSUER(self|name) EXTENSIONS START END
cert() {
    local name=$1 subj=$2 issuer=$3 ext=$4 start=$5 end=$6
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/$name.key" 2>/dev/null
    openssl req -new -config "$pki/ca.cnf" -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr"
    local signer=(-cert "$pki/$issuer.pem" -keyfile "$pki/$issuer.key")
    [ "$issuer" = self ] && signer=(-selfsign -keyfile "$pki/$name.key")
    openssl ca -batch -notext -config "$pki/ca.cnf" "${signer[@]}" -in "$pki/$name.csr" \
        -out "$pki/$name.pem" -extensions "$ext" -startdate "$start" -enddate "$end" \
        2>"$pki/ca.log" || {
        cat "$pki/ca.log" >&2
        exit 1
    }
}
cert root "/O=tmi-console tests/CN=TMI Test Root CA" self v3_root 20100101000000Z 20450101000000Z
cert inter "/O=tmi-console tests/CN=TMI Test Code Signing CA" root v3_ca 20100101000000Z 20450101000000Z
cert leaf "/C=JP/O=TMI Test Publisher, Inc./CN=TMI Test Publisher" inter v3_leaf \
    20200101000000Z 20450101000000Z
cert noeku "/O=TMI Test Publisher, Inc./CN=TMI Test Web Server" inter v3_noeku \
    20200101000000Z 20450101000000Z
cert oldca "/O=tmi-console tests/CN=TMI Test Code Signing CA 2010" root v3_ca \
    20100101000000Z 20200630000000Z
cert oldleaf "/C=JP/O=TMI Test Publisher, Inc./CN=TMI Test Publisher 2015" oldca v3_leaf \
    20150101000000Z 20180101000000Z
cert tsa "/O=tmi-console tests/CN=TMI Test Timestamping Authority" root v3_tsa \
    20100101000000Z 20450101000000Z
cert other-root "/O=elsewhere tests/CN=TMI Other Root CA" self v3_root 20100101000000Z 20450101000000Z
cert other-inter "/O=elsewhere tests/CN=TMI Other Code Signing CA" other-root v3_ca \
    20100101000000Z 20450101000000Z
cert other-leaf "/O=Elsewhere Software/CN=Elsewhere Publisher" other-inter v3_leaf \
    20200101000000Z 20450101000000Z
cp "$pki/root.pem" "$out/trust.pem"
openssl x509 -in "$pki/leaf.pem" -outform DER -out "$pki/leaf.der"
cat "$pki/leaf.pem" "$pki/inter.pem" >"$pki/chain-leaf.pem"
cat "$pki/noeku.pem" "$pki/inter.pem" >"$pki/chain-noeku.pem"
cat "$pki/oldleaf.pem" "$pki/oldca.pem" >"$pki/chain-oldleaf.pem"
cat "$pki/other-leaf.pem" "$pki/other-inter.pem" >"$pki/chain-other.pem"
cat "$pki/other-leaf.pem" "$pki/other-inter.pem" "$pki/other-root.pem" >"$pki/chain-other-root.pem"
cat "$pki/tsa.pem" "$pki/root.pem" >"$pki/tsa-chain.pem"

list=$out/fixtures.txt
: >"$list"
note() { printf '%-26s %s\n' "$1" "$2" >>"$list"; }

# base NAME ARGS...: an unsigned PE fixture
base() {
    local name=$1
    shift
    "$fixture" --out "$out/$name" "$@" --string "CompanyName=TMI Test Publisher, Inc." \
        --string "ProductName=Signature fixture"
}
# sign IN OUT CHAIN KEY [osslsigncode options...]
sign() {
    local in=$1 o=$2 chain=$3 key=$4
    shift 4
    osslsigncode sign -certs "$pki/$chain.pem" -key "$pki/$key.key" -n "tmi-console test" \
        "$@" -in "$out/$in" -out "$out/$o" >"$pki/sign.log" 2>&1 || {
        cat "$pki/sign.log" >&2
        exit 1
    }
}
ts() { echo -TSA-certs "$pki/tsa-chain.pem" -TSA-key "$pki/tsa.key" -TSA-time "$1"; }
t2016=1464739200 # 2016-06-01, inside the old leaf's validity
t2023=1700000000 # 2023-11-14, inside the current leaf's validity

base unsigned.exe --version 1.12.0.1266 --pad 40000 --seed 1
base unsigned64.dll --pe32plus --dll --version 1.12.0.1266 --pad 30000 --seed 2
base unsigned-sha1.dll --dll --pe32plus --version 1.12.0.1156 --pad 12345 --seed 3
base unsigned-small.exe --version 1.0.0.0
note unsigned.exe "no signature (PE32)"
note unsigned64.dll "no signature (PE32+ DLL)"

sign unsigned.exe signed.exe chain-leaf leaf -h sha256
note signed.exe "valid: SHA-256, PE32"
sign unsigned64.dll signed64.dll chain-leaf leaf -h sha256
note signed64.dll "valid: SHA-256, PE32+ DLL"
sign unsigned-sha1.dll signed-sha1.dll chain-leaf leaf -h sha1
note signed-sha1.dll "valid: SHA-1, PE32+ DLL"
sign unsigned-small.exe signed-sha512.exe chain-leaf leaf -h sha512
note signed-sha512.exe "valid: SHA-512, no overlay"
sign unsigned.exe signed-ts.exe chain-leaf leaf -h sha256 $(ts $t2023)
note signed-ts.exe "valid: RFC 3161 timestamp (2023)"
sign unsigned.exe signed-md5.exe chain-leaf leaf -h md5
note signed-md5.exe "unsupported: MD5 image digest"

$tamper flip-body "$out/signed.exe" "$out/tampered-body.exe"
note tampered-body.exe "digest mismatch: a byte of the last section changed"
$tamper flip-header "$out/signed64.dll" "$out/tampered-header.dll"
note tampered-header.dll "digest mismatch: the TimeDateStamp changed"
$tamper flip-checksum "$out/signed.exe" "$out/checksum-changed.exe"
note checksum-changed.exe "valid: the CheckSum is outside the signed range"
$tamper flip-sig "$out/signed.exe" "$out/tampered-sig.exe"
note tampered-sig.exe "bad signature: a byte of the signature value changed"
$tamper flip-cert "$out/signed.exe" "$out/tampered-cert.exe"
note tampered-cert.exe "invalid: a byte inside a certificate of the signature changed"
$tamper move "$out/signed.exe" "$out/moved.exe"
note moved.exe "digest mismatch: the certificate table moved 8 bytes on"
$tamper transplant "$out/signed.exe" "$out/unsigned-small.exe" "$out/transplanted.exe"
note transplanted.exe "digest mismatch: another file's signature"
$tamper truncate "$out/signed.exe" "$out/truncated.exe"
note truncated.exe "malformed: the file ends inside the certificate table"
$tamper append "$out/signed.exe" "$out/trailing.exe"
note trailing.exe "malformed: data after the certificate table"

sign unsigned.exe unknown-root.exe chain-other other-leaf -h sha256
note unknown-root.exe "untrusted root: a chain to TMI Other Root CA (root not in the signature)"
sign unsigned64.dll unknown-root-inc.dll chain-other-root other-leaf -h sha256
note unknown-root-inc.dll "untrusted root: a chain to TMI Other Root CA (root in the signature)"
sign unsigned.exe noeku.exe chain-noeku noeku -h sha256
note noeku.exe "wrong key usage: the leaf is for serverAuth only"

sign unsigned.exe expired.exe chain-oldleaf oldleaf -h sha256 -time $t2016
note expired.exe "expired: 2015 leaf under a CA expired in 2020, no timestamp"
sign unsigned.exe expired-ts.exe chain-oldleaf oldleaf -h sha256 -time $t2016 $(ts $t2016)
note expired-ts.exe "valid: the same, with an RFC 3161 timestamp of 2016"
osslsigncode extract-signature -in "$out/expired.exe" -out "$pki/expired.p7" >/dev/null
"$countersign" "$pki/expired.p7" "$pki/expired-cs.p7" "$pki/tsa.pem" "$pki/tsa.key" $t2016
osslsigncode attach-signature -sigin "$pki/expired-cs.p7" -CAfile "$out/trust.pem" \
    -TSA-CAfile "$out/trust.pem" -in "$out/unsigned.exe" -out "$out/expired-cs.exe" \
    >"$pki/attach.log" 2>&1 || {
    cat "$pki/attach.log" >&2
    exit 1
}
note expired-cs.exe "valid: the same, with a PKCS#9 countersignature of 2016"
sign unsigned.exe ts-before-leaf.exe chain-leaf leaf -h sha256 $(ts $t2016)
note ts-before-leaf.exe "expired: timestamped (2016) before the leaf's validity (2020)"
$tamper flip-sig "$out/signed-ts.exe" "$out/ts-tampered.exe"
note ts-tampered.exe "bad timestamp: a byte of the timestamp's signature changed"

$tamper gap "$out/unsigned.exe" "$out/gap-unsigned.exe"
sign gap-unsigned.exe gap.exe chain-leaf leaf -h sha256
rm -f "$out/gap-unsigned.exe"
note gap.exe "valid: bytes between two sections, signed by every byte"
$tamper flip-gap "$out/gap.exe" "$out/gap-tampered.exe"
note gap-tampered.exe "digest mismatch: a byte between two sections changed"
rm -f "$pki"/*.csr "$pki"/*.log
