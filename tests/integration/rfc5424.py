"""rfc5424.py - a strict parser of syslog messages (RFC 5424) and of RFC 6587
octet-counted TCP streams, for the tests of the alert outputs. It follows the
ABNF of RFC 5424 section 6 and refuses what it does not allow; a message that
parses here is one a conforming collector reads the same way.

    msg = parse(data)            # bytes of one message; raises ValueError
    msgs, rest = split_octet_counted(stream_bytes)
"""
import datetime
import re

NIL = "-"
BOM = b"\xef\xbb\xbf"


class Message:
    def __init__(self):
        self.pri = self.facility = self.severity = self.version = None
        self.timestamp = None  # datetime (UTC) or None for NILVALUE
        self.hostname = self.app_name = self.procid = self.msgid = None
        self.sd = []          # [(sd_id, [(name, value), ...]), ...]
        self.msg = None       # str (after the BOM) or bytes (no BOM), or None
        self.has_bom = False

    def params(self, sd_id):
        for i, ps in self.sd:
            if i == sd_id:
                return dict(ps)
        return None


def _printusascii(b):
    return all(33 <= c <= 126 for c in b)


def _field(data, pos, maxlen, what):
    end = data.find(b" ", pos)
    if end < 0:
        raise ValueError("%s: no SP after it" % what)
    tok = data[pos:end]
    if tok == b"-":
        return NIL, end + 1
    if not 1 <= len(tok) <= maxlen or not _printusascii(tok):
        raise ValueError("%s: %r is not 1..%d PRINTUSASCII" % (what, tok, maxlen))
    return tok.decode("ascii"), end + 1


_TS = re.compile(rb"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
                 rb"(Z|[+-]\d{2}:\d{2})$")


def _timestamp(tok):
    if tok == b"-":
        return None
    m = _TS.match(tok)
    if not m:
        raise ValueError("TIMESTAMP %r is not FULL-DATE T FULL-TIME" % tok)
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = m.group(7)
    us = int((frac[1:] + b"000000")[:6]) if frac else 0
    off = m.group(8)
    if off == b"Z":
        tz = datetime.timezone.utc
    else:
        sign = 1 if off[:1] == b"+" else -1
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise ValueError("TIME-OFFSET %r out of range" % off)
        tz = datetime.timezone(sign * datetime.timedelta(hours=oh, minutes=om))
    # datetime checks the calendar (no Feb 30, hour 0..23, ...); no leap second
    return datetime.datetime(y, mo, d, h, mi, s, us, tzinfo=tz).astimezone(datetime.timezone.utc)


def _sd_name(data, pos, stop, what):
    end = pos
    while end < len(data) and data[end] not in stop:
        c = data[end]
        if not 33 <= c <= 126 or c in b'= ]"':
            raise ValueError("%s: byte %r not allowed in an SD-NAME" % (what, bytes([c])))
        end += 1
    if not 1 <= end - pos <= 32:
        raise ValueError("%s: SD-NAME of %d characters (1..32)" % (what, end - pos))
    return data[pos:end].decode("ascii"), end


def _param_value(data, pos):
    """From after the opening quote to the closing one: (value, pos after it)."""
    out = bytearray()
    while True:
        if pos >= len(data):
            raise ValueError("PARAM-VALUE: no closing quote")
        c = data[pos]
        if c == 0x5C and pos + 1 < len(data) and data[pos + 1] in b'"\\]':
            out.append(data[pos + 1])
            pos += 2
            continue
        if c == 0x22:
            break
        if c == 0x5D:
            raise ValueError("PARAM-VALUE: an unescaped ']'")
        out.append(c)
        pos += 1
    try:
        return out.decode("utf-8"), pos + 1
    except UnicodeDecodeError as e:
        raise ValueError("PARAM-VALUE is not UTF-8: %s" % e)


def _sd_element(data, pos):
    """At '[': (sd_id, params, pos after ']')."""
    sd_id, pos = _sd_name(data, pos + 1, b" ]", "SD-ID")
    if "@" in sd_id:
        name, _, pen = sd_id.partition("@")
        if not name or not re.fullmatch(r"[1-9][0-9]*(\.[0-9]+)*", pen):
            raise ValueError("SD-ID %r: NAME@<enterprise number> expected" % sd_id)
    params, names = [], set()
    while pos < len(data) and data[pos] == 0x20:
        name, pos = _sd_name(data, pos + 1, b"=", "PARAM-NAME")
        if data[pos:pos + 2] != b'="':
            raise ValueError("PARAM %s: '=\"' expected" % name)
        value, pos = _param_value(data, pos + 2)
        if name in names:
            raise ValueError("PARAM %s twice in one element" % name)
        names.add(name)
        params.append((name, value))
    if pos >= len(data) or data[pos] != 0x5D:
        raise ValueError("SD-ELEMENT: ']' expected at offset %d" % pos)
    return sd_id, params, pos + 1


def parse(data):
    """One RFC 5424 message (bytes) -> Message; ValueError names the fault."""
    m = Message()
    pm = re.match(rb"<(\d{1,3})>([1-9]\d{0,2}) ", data)
    if not pm:
        raise ValueError("no '<PRI>VERSION SP' at the start: %r" % data[:16])
    if len(pm.group(1)) > 1 and pm.group(1)[:1] == b"0":
        raise ValueError("PRI with a leading zero")
    m.pri = int(pm.group(1))
    if m.pri > 191:
        raise ValueError("PRI %d > 191" % m.pri)
    m.facility, m.severity = divmod(m.pri, 8)
    m.version = int(pm.group(2))
    pos = pm.end()
    end = data.find(b" ", pos)
    if end < 0:
        raise ValueError("TIMESTAMP: no SP after it")
    m.timestamp = _timestamp(data[pos:end])
    pos = end + 1
    m.hostname, pos = _field(data, pos, 255, "HOSTNAME")
    m.app_name, pos = _field(data, pos, 48, "APP-NAME")
    m.procid, pos = _field(data, pos, 128, "PROCID")
    m.msgid, pos = _field(data, pos, 32, "MSGID")
    if data[pos:pos + 1] == b"-":
        pos += 1
    else:
        if data[pos:pos + 1] != b"[":
            raise ValueError("STRUCTURED-DATA: '-' or '[' expected")
        ids = set()
        while data[pos:pos + 1] == b"[":
            sd_id, params, pos = _sd_element(data, pos)
            if sd_id in ids:
                raise ValueError("SD-ID %s twice" % sd_id)
            ids.add(sd_id)
            m.sd.append((sd_id, params))
    if pos == len(data):
        return m
    if data[pos] != 0x20:
        raise ValueError("SP or the end expected after STRUCTURED-DATA")
    rest = data[pos + 1:]
    if rest.startswith(BOM):
        m.has_bom = True
        try:
            m.msg = rest[3:].decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError("MSG after the BOM is not UTF-8: %s" % e)
    else:
        m.msg = rest
    return m


def split_octet_counted(stream):
    """RFC 6587 3.4.1: MSG-LEN SP SYSLOG-MSG, repeated. -> ([bytes], rest)."""
    msgs, pos = [], 0
    while pos < len(stream):
        sp = stream.find(b" ", pos)
        if sp < 0:
            break
        num = stream[pos:sp]
        if not re.fullmatch(rb"[1-9][0-9]*", num):
            raise ValueError("MSG-LEN %r is not NONZERO-DIGIT *DIGIT" % num[:12])
        n = int(num)
        if sp + 1 + n > len(stream):
            break
        msgs.append(stream[sp + 1:sp + 1 + n])
        pos = sp + 1 + n
    return msgs, stream[pos:]
