#!/usr/bin/python3
"""sig_tamper.py - damage signed PE files in known ways, for the signature tests.

Usage: sig_tamper.py ACTION IN OUT            (one file in, one out)
       sig_tamper.py transplant SIGNED OTHER OUT

Actions:
  flip-body      change a byte in the middle of the last section (inside the signed range)
  flip-header    change the file header's TimeDateStamp (inside the signed range)
  flip-checksum  change the optional header's CheckSum (outside the signed range)
  flip-sig       change a byte of the signer's signature value (the last bytes of the PKCS#7)
  flip-cert      change a byte inside the first certificate of the PKCS#7
  move           put 8 zero bytes before the certificate table and point the directory past
                 them: the table moves, the bytes before it are hashed
  truncate       cut the file in the middle of the certificate table
  append         add 16 bytes after the certificate table
  gap            (unsigned input) halve the first section's SizeOfRawData, leaving bytes
                 between it and the next section that the specification does not hash
  flip-gap       change a byte inside such a gap (after signing)
  transplant     the certificate table of SIGNED put on OTHER (another file)

Only the standard library; exits 0 when OUT is written, 1 on a file it cannot handle.
"""

import struct
import sys


def headers(b):
    """Offsets of what the actions touch."""
    nt = struct.unpack_from("<I", b, 0x3C)[0]
    if b[:2] != b"MZ" or b[nt:nt + 4] != b"PE\0\0":
        raise ValueError("not a PE file")
    fh = nt + 4
    nsect = struct.unpack_from("<H", b, fh + 2)[0]
    optsize = struct.unpack_from("<H", b, fh + 16)[0]
    opt = fh + 20
    magic = struct.unpack_from("<H", b, opt)[0]
    dirs = opt + (112 if magic == 0x20B else 96)
    sections = opt + optsize
    secdir = dirs + 4 * 8
    off, size = struct.unpack_from("<II", b, secdir)
    return {"fh": fh, "opt": opt, "secdir": secdir, "sections": sections, "nsect": nsect,
            "cert_off": off, "cert_size": size}


def section(b, h, i):
    s = h["sections"] + 40 * i
    size, ptr = struct.unpack_from("<II", b, s + 16)
    return s, ptr, size


def pkcs7_span(b, h):
    """(start, length) of the first WIN_CERTIFICATE's PKCS#7 DER."""
    start = h["cert_off"] + 8
    if b[start] != 0x30:
        raise ValueError("no DER SEQUENCE in the certificate table")
    n = b[start + 1]
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[start + 2:start + 2 + k], "big")
        return start, 2 + k + n
    return start, 2 + n


def flip(b, i):
    b[i] ^= 0x5A


def act(action, b):
    h = headers(b)
    if action == "flip-body":
        _, ptr, size = section(b, h, h["nsect"] - 1)
        flip(b, ptr + size // 2)
    elif action == "flip-header":
        flip(b, h["fh"] + 4)
    elif action == "flip-checksum":
        flip(b, h["opt"] + 64)
    elif action == "flip-sig":
        start, length = pkcs7_span(b, h)
        flip(b, start + length - 10)
    elif action == "flip-cert":
        start, _ = pkcs7_span(b, h)
        # the SignedData's certificates follow its content; a byte well inside the first one
        flip(b, start + 600)
    elif action == "move":
        off, size = h["cert_off"], h["cert_size"]
        b[off:off] = bytes(8)
        struct.pack_into("<I", b, h["secdir"], off + 8)
    elif action == "truncate":
        del b[h["cert_off"] + h["cert_size"] // 2:]
    elif action == "append":
        b.extend(b"appended data...")
    elif action == "gap":
        s, _, size = section(b, h, 0)
        struct.pack_into("<I", b, s + 16, size // 2)
    elif action == "flip-gap":
        _, ptr, size = section(b, h, 0)
        flip(b, ptr + size + 8)
    else:
        raise ValueError("unknown action " + action)
    return b


def transplant(signed, other):
    hs, ho = headers(signed), headers(other)
    if ho["cert_off"] != 0:
        raise ValueError("the other file is signed already")
    table = signed[hs["cert_off"]:hs["cert_off"] + hs["cert_size"]]
    out = bytearray(other)
    out.extend(bytes((8 - len(out) % 8) % 8))
    struct.pack_into("<II", out, ho["secdir"], len(out), len(table))
    out.extend(table)
    return out


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "transplant":
            signed = bytearray(open(argv[2], "rb").read())
            other = bytearray(open(argv[3], "rb").read())
            out, path = transplant(signed, other), argv[4]
        elif len(argv) == 4:
            out, path = act(argv[1], bytearray(open(argv[2], "rb").read())), argv[3]
        else:
            sys.stderr.write(__doc__)
            return 2
    except (ValueError, IndexError, struct.error) as e:
        sys.stderr.write("sig_tamper: %s\n" % e)
        return 1
    with open(path, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
