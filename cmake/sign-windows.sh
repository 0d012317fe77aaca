#!/usr/bin/env bash
# sign-windows.sh - Authenticode-sign a Windows program with osslsigncode.
#
#   cmake/sign-windows.sh EXE CERT.pem KEY.pem [--timestamp URL] [--pass-file FILE]
#
# CERT.pem  the code-signing certificate, then any intermediate CA
#           certificates, PEM (the chain goes into the signature)
# KEY.pem   its private key, PEM; an encrypted key needs --pass-file FILE
#           (the passphrase on the file's first line)
# --timestamp URL  countersign by an RFC 3161 time-stamping server, so the
#           signature stays valid after the certificate expires. Off by
#           default: it needs the network, and the build machine may have none.
#
# SHA-256 digest, description "tmi-console". A signature already on EXE is
# replaced. EXE is changed only when signing succeeded (temporary file, then
# rename). `cmake/dev.sh windows --sign CERT.pem KEY.pem` runs this on
# build-win/dist/tmi-console.exe. Exit: 0 signed, 1 failure, 2 usage.
set -euo pipefail

usage() {
    sed -n '4p' "$0" | sed 's/^# *//' >&2
    exit 2
}
[ $# -ge 3 ] || usage
exe=$1 cert=$2 key=$3
shift 3
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --timestamp)
        [ $# -ge 2 ] || usage
        extra+=(-ts "$2")
        shift 2
        ;;
    --pass-file)
        [ $# -ge 2 ] || usage
        [ -r "$2" ] || { echo "sign-windows: cannot read $2" >&2; exit 2; }
        extra+=(-readpass "$2")
        shift 2
        ;;
    *) usage ;;
    esac
done
for f in "$exe" "$cert" "$key"; do
    [ -r "$f" ] || { echo "sign-windows: cannot read $f" >&2; exit 2; }
done
command -v osslsigncode >/dev/null || { echo "sign-windows: osslsigncode is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sign-windows.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$exe
# an existing signature is replaced, not nested
if osslsigncode extract-signature -in "$exe" -out "$tmp/old.sig" >/dev/null 2>&1; then
    osslsigncode remove-signature -in "$exe" -out "$tmp/unsigned.exe" >/dev/null ||
        { echo "sign-windows: cannot remove the old signature of $exe" >&2; exit 1; }
    src=$tmp/unsigned.exe
fi
if ! osslsigncode sign -certs "$cert" -key "$key" -h sha256 -n tmi-console "${extra[@]}" \
    -in "$src" -out "$tmp/signed.exe" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    echo "sign-windows: signing $exe failed" >&2
    exit 1
fi
cp "$tmp/signed.exe" "$exe.signing"
mv -f "$exe.signing" "$exe"
