"""Normalise, then validate, every identifier and setting typed, passed or imported.

The rules are those of ``shared/spec/identifiers.md``. Each ``normalize_*`` function
returns the stored form of a value or raises :class:`core.errors.ValidationError`
naming the field, the value and what is wrong; no other exception escapes them for
text input. The ``make_*`` helpers build valid identifiers from their bodies (demo
data) and raise :class:`ValueError` for a body that is not what they need, which is
a programming error rather than a user's mistake.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from simdeck.core.errors import ValidationError

__all__ = [
    "ip_in_pool",
    "luhn_check_digit",
    "luhn_valid",
    "make_eid",
    "make_iccid",
    "make_imei",
    "normalize_eid",
    "normalize_group_name",
    "normalize_iccid",
    "normalize_imei",
    "normalize_imsi",
    "normalize_imsis",
    "normalize_ip",
    "normalize_ip_pool",
    "normalize_tag",
    "normalize_tags",
    "normalize_text",
]

ICCID_MIN_DIGITS = 18
ICCID_MAX_DIGITS = 22
IMSI_DIGITS = 15
IMSI_OLD_DIGITS = 14
IMSIS_MAX = 16
EID_DIGITS = 32
IMEI_DIGITS = 15
GROUP_NAME_MAX = 64
TAG_MAX = 32
TAGS_MAX = 32
TEXT_LIMIT = 128

# Longest part of a refused value repeated in a message; the rest becomes "…".
_SHOWN_MAX = 64

_DIGITS = "0123456789"
# Luhn: a doubled digit d counts as the digit sum of 2*d, itself a single digit.
_LUHN_DOUBLE = bytes.maketrans(b"0123456789", b"0246813579")

# Characters removed as "spaces" besides str.split() whitespace: byte-order mark and
# zero-width space, which copying from web pages and spreadsheets leaves behind.
_INVISIBLE = {0xFEFF: None, 0x200B: None}
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DROP_SPACES = dict(_INVISIBLE)
_DROP_SPACES_DASHES = {**_INVISIBLE, **{ord(c): None for c in _DASHES}}
_DROP_SPACES_DASHES_SLASHES = {**_DROP_SPACES_DASHES, ord("/"): None}

_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_GROUP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.:")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_IMSI_SEPARATORS = re.compile(r"[;,\s]+")
_TAG_SEPARATORS = re.compile(r"[,\s]+")
# Categories refused in free text: control and format characters, surrogates (not
# encodable), and the line and paragraph separators.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a control character",
    "Cs": "an invalid character (a lone surrogate)",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


# --------------------------------------------------------------------------- helpers


def shown(text: str) -> str:
    """A typed value as it may be repeated in a message (control characters escaped)."""
    return _shown(text)


def _shown(text: str) -> str:
    """The value as repeated in a message: non-printable characters escaped, long ones cut."""
    if len(text) > _SHOWN_MAX:
        text = text[:_SHOWN_MAX] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _char(c: str) -> str:
    """A character named in a message: quoted if printable, else its code point."""
    if c.isprintable():
        return f"'{c}'"
    return f"U+{ord(c):04X}"


def _as_text(field: str, raw: object) -> str:
    """The raw value as text: None is empty, numbers from a spreadsheet become text."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw)
    raise ValidationError(field, None, f"must be text, not {type(raw).__name__}")


def _compact(field: str, raw: object, drop: dict[int, None]) -> str:
    """The value with whitespace and the `drop` characters removed; refuses empty and 8.94E+18."""
    text = _as_text(field, raw)
    compact = "".join(text.translate(drop).split())
    if not compact:
        raise ValidationError(field, None, "is empty")
    if _SCIENTIFIC.fullmatch(compact):
        raise ValidationError(
            field,
            _shown(compact),
            f"is in scientific notation ({compact}), as spreadsheets export it: "
            "the digits are lost, export the column as text",
        )
    return compact


def _require_digits(field: str, value: str) -> None:
    """Refuse a value that holds anything but the ASCII digits 0-9, naming the first intruder."""
    if value.isascii() and value.isdigit():
        return
    for c in value:
        if c not in _DIGITS:
            raise ValidationError(field, _shown(value), f"contains the character {_char(c)}")


def _luhn_total(b: bytes) -> int:
    """Luhn sum of ASCII digits `b`, doubling the rightmost digit (as for a missing check digit)."""
    n = len(b)
    return sum(b[(n - 1) & 1 :: 2].translate(_LUHN_DOUBLE)) + sum(b[n & 1 :: 2]) - 48 * n


def _check_luhn(field: str, value: str) -> None:
    """Refuse `value` (ASCII digits) whose last digit is not the Luhn check digit of the rest."""
    expected = -_luhn_total(value[:-1].encode()) % 10
    if int(value[-1]) != expected:
        raise ValidationError(field, value, f"check digit should be {expected}, not {value[-1]}")


# ------------------------------------------------------------------------------ Luhn


def luhn_check_digit(digits: str) -> int:
    """The Luhn (ISO/IEC 7812) check digit to append to a string of ASCII digits."""
    if not digits.isascii():
        raise ValueError(f"not a string of digits: {digits!r}")
    b = digits.encode()
    if not b.isdigit():
        if not b:
            return 0
        raise ValueError(f"not a string of digits: {digits!r}")
    n = len(b)
    return -(sum(b[(n - 1) & 1 :: 2].translate(_LUHN_DOUBLE)) + sum(b[n & 1 :: 2]) - 48 * n) % 10


def luhn_valid(digits: str) -> bool:
    """True if `digits` is ASCII digits whose last one is the Luhn check digit of the rest."""
    if not digits or not digits.isascii():
        return False
    b = digits.encode()
    if not b.isdigit():
        return False
    return -_luhn_total(b[:-1]) % 10 == b[-1] - 48


# ----------------------------------------------------------------------------- ICCID


def normalize_iccid(raw: str) -> str:
    """The ICCID without spaces, dashes or F padding: 18-22 digits, starts 89, Luhn-valid."""
    field = "ICCID"
    compact = _compact(field, raw, _DROP_SPACES_DASHES)
    value = compact.rstrip("Ff")
    if not value:
        raise ValidationError(field, _shown(compact), "has no digits, only F padding")
    _require_digits(field, value)
    n = len(value)
    if not ICCID_MIN_DIGITS <= n <= ICCID_MAX_DIGITS:
        raise ValidationError(
            field,
            _shown(value),
            f"has {n} digits, expected {ICCID_MIN_DIGITS} to {ICCID_MAX_DIGITS}",
        )
    if not value.startswith("89"):
        raise ValidationError(field, value, "must start with 89")
    _check_luhn(field, value)
    return value


def make_iccid(body: str) -> str:
    """The ICCID made of `body` (17-21 digits starting 89) and its Luhn check digit."""
    n = len(body)
    if 17 <= n <= 21 and body.isascii() and body.startswith("89"):
        b = body.encode()
        if b.isdigit():
            total = sum(b[(n - 1) & 1 :: 2].translate(_LUHN_DOUBLE)) + sum(b[n & 1 :: 2])
            return body + _DIGITS[(48 * n - total) % 10]
    raise ValueError(f"an ICCID body is 17 to 21 digits starting with 89, not {body!r}")


# ------------------------------------------------------------------------------ IMSI


def normalize_imsi(raw: str) -> str:
    """The IMSI without spaces: 15 digits (14 for old networks), any MCC including 001."""
    field = "IMSI"
    value = _compact(field, raw, _DROP_SPACES)
    _require_digits(field, value)
    n = len(value)
    if n not in (IMSI_OLD_DIGITS, IMSI_DIGITS):
        raise ValidationError(
            field, _shown(value), f"has {n} digits, expected {IMSI_DIGITS} (or {IMSI_OLD_DIGITS})"
        )
    return value


def normalize_imsis(raw: str | list[str]) -> list[str]:
    """The IMSIs of one cell (';', ',' or space separated) or list: 1-16, in order, no repeats."""
    field = "IMSI"
    if raw is None or isinstance(raw, str | int | float):
        pieces = [p for p in _IMSI_SEPARATORS.split(_as_text(field, raw)) if p]
    elif isinstance(raw, list | tuple):
        pieces = [p for p in (_as_text(field, r) for r in raw) if p.strip()]
    else:
        raise ValidationError(field, None, f"must be text or a list, not {type(raw).__name__}")
    if not pieces:
        raise ValidationError(field, None, "is empty")
    if len(pieces) > IMSIS_MAX:
        raise ValidationError(
            field, None, f"{len(pieces)} IMSIs given, at most {IMSIS_MAX} allowed"
        )
    result: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        imsi = normalize_imsi(piece)
        if imsi in seen:
            raise ValidationError(field, imsi, "is listed twice")
        seen.add(imsi)
        result.append(imsi)
    return result


# ------------------------------------------------------------------------------- EID


def normalize_eid(raw: str) -> str:
    """The EID without spaces: 32 digits whose value mod 97 is 1 (ISO 7064 mod 97-10)."""
    field = "EID"
    value = _compact(field, raw, _DROP_SPACES)
    _require_digits(field, value)
    n = len(value)
    if n != EID_DIGITS:
        raise ValidationError(field, _shown(value), f"has {n} digits, expected {EID_DIGITS}")
    if int(value) % 97 != 1:
        expected = 98 - int(value[:30]) * 100 % 97
        raise ValidationError(
            field, value, f"check digits should be {expected:02d}, not {value[30:]}"
        )
    return value


def make_eid(first30: str) -> str:
    """The EID made of 30 digits and the two check digits that make it 1 mod 97."""
    if len(first30) == 30 and first30.isascii() and first30.isdigit():
        return f"{first30}{98 - int(first30) * 100 % 97:02d}"
    raise ValueError(f"an EID body is 30 digits, not {first30!r}")


# ------------------------------------------------------------------------------ IMEI


def normalize_imei(raw: str) -> str:
    """The 15-digit IMEI without spaces, dashes or slashes; 14 digits get their check digit."""
    field = "IMEI"
    value = _compact(field, raw, _DROP_SPACES_DASHES_SLASHES)
    _require_digits(field, value)
    n = len(value)
    if n == IMEI_DIGITS - 1:
        return value + _DIGITS[-_luhn_total(value.encode()) % 10]
    if n != IMEI_DIGITS:
        problem = (
            f"has {n} digits, expected {IMEI_DIGITS} (or {IMEI_DIGITS - 1} without the check digit)"
        )
        if n == IMEI_DIGITS + 1:
            problem += "; 16 digits is an IMEISV, not an IMEI"
        raise ValidationError(field, _shown(value), problem)
    _check_luhn(field, value)
    return value


def make_imei(body14: str) -> str:
    """The IMEI made of 14 digits and their Luhn check digit."""
    if len(body14) == IMEI_DIGITS - 1 and body14.isascii():
        b = body14.encode()
        if b.isdigit():
            return body14 + _DIGITS[-_luhn_total(b) % 10]
    raise ValueError(f"an IMEI body is 14 digits, not {body14!r}")


# -------------------------------------------------------------------------------- IP


def normalize_ip(raw: str) -> str:
    """The static IP in ipaddress form: one IPv4 or IPv6 address a device can hold."""
    field = "static IP"
    value = _as_text(field, raw).strip()
    if not value:
        raise ValidationError(field, None, "is empty")
    shown = _shown(value)
    if "/" in value:
        raise ValidationError(
            field, shown, "has a /prefix: a static IP is one address, not a network"
        )
    if "%" in value:
        raise ValidationError(
            field, shown, "has a zone index (%...), which a static IP cannot have"
        )
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(field, shown, "is not an IPv4 or IPv6 address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # ::ffff:10.1.1.1 is 10.1.1.1: store it once, in the form the uniqueness check sees.
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        raise ValidationError(field, shown, "is the unspecified address, not a host address")
    if ip.is_multicast:
        raise ValidationError(field, shown, "is a multicast address, not a host address")
    if ip.is_loopback:
        raise ValidationError(field, shown, "is a loopback address, which a device cannot hold")
    if ip.is_link_local:
        raise ValidationError(field, shown, "is a link-local address, which a device cannot hold")
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
        raise ValidationError(field, shown, "is the broadcast address, not a host address")
    return str(ip)


def normalize_ip_pool(raw: str) -> str:
    """The IP pool as a CIDR network (10.0.0.0/24, 2001:db8::/64) without host bits."""
    field = "IP pool"
    value = _as_text(field, raw).strip()
    if not value:
        raise ValidationError(field, None, "is empty")
    shown = _shown(value)
    if "/" not in value:
        raise ValidationError(field, shown, "has no /prefix: write a network such as 10.0.0.0/24")
    if "%" in value:
        raise ValidationError(field, shown, "has a zone index (%...), which a pool cannot have")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(
                field, shown, "is not an IPv4 or IPv6 network such as 10.0.0.0/24"
            ) from None
        raise ValidationError(field, shown, f"has host bits set: the network is {loose}") from None
    return str(network)


def pool_host_problem(ip: str, pool: str) -> str:
    """Why ``ip`` cannot be a device's address in ``pool`` ('' when it can)."""
    addr, net = ipaddress.ip_address(ip), ipaddress.ip_network(pool, strict=False)
    if addr.version != net.version or addr not in net:
        return f"is outside the IP pool {pool}"
    if net.num_addresses > 2 and addr == net.network_address:
        return f"is the network address of the IP pool {pool}, not a host address"
    if net.version == 4 and net.num_addresses > 2 and addr == net.broadcast_address:
        return f"is the broadcast address of the IP pool {pool}, not a host address"
    return ""


def ip_in_pool(ip: str, pool: str) -> bool:
    """True if the static IP lies inside the IP pool (False across IPv4 and IPv6)."""
    address = ipaddress.ip_address(normalize_ip(ip))
    network = ipaddress.ip_network(normalize_ip_pool(pool))
    return address.version == network.version and address in network


# ------------------------------------------------------------------- names and tags


def _check_name(field: str, value: str, allowed: frozenset[str], limit: int, what: str) -> None:
    """Refuse `value` if empty, longer than `limit` or holding a character not in `allowed`."""
    if not value:
        raise ValidationError(field, None, "is empty")
    for c in value:
        if c not in allowed:
            if c in _UPPER:
                problem = f"contains the upper-case letter '{c}': {what} are lower case only"
            else:
                problem = f"contains the character {_char(c)}"
            raise ValidationError(field, _shown(value), problem)
    if len(value) > limit:
        raise ValidationError(
            field, _shown(value), f"has {len(value)} characters, at most {limit} allowed"
        )


#: Names the filters read as "no group", so no group may carry them.
RESERVED_GROUP_NAMES = frozenset({"none", "-"})


def normalize_group_name(raw: str) -> str:
    """The group name stripped: 1-64 of a-z 0-9 - _ . (upper case is refused, not lowered)."""
    field = "group name"
    value = _as_text(field, raw).strip()
    _check_name(field, value, _GROUP_CHARS, GROUP_NAME_MAX, "group names")
    if value in RESERVED_GROUP_NAMES:
        raise ValidationError(
            field, value, "is reserved: filters use it to mean endpoints without a group"
        )
    return value


def normalize_tag(raw: str) -> str:
    """The tag stripped and lower-cased (A-Z only): 1-32 of a-z 0-9 - _ . :."""
    field = "tag"
    value = _as_text(field, raw).strip().translate(_ASCII_LOWER)
    _check_name(field, value, _TAG_CHARS, TAG_MAX, "tags")
    return value


def normalize_tags(raw: str | list[str]) -> list[str]:
    """The tags of a comma/space separated text or a list: normalised, unique, sorted, <= 32."""
    field = "tag"
    if raw is None or isinstance(raw, str):
        pieces = [p for p in _TAG_SEPARATORS.split(raw or "") if p]
    elif isinstance(raw, list | tuple | set | frozenset):
        pieces = [p for p in (_as_text(field, r) for r in raw) if p.strip()]
    else:
        raise ValidationError(field, None, f"must be text or a list, not {type(raw).__name__}")
    tags = sorted({normalize_tag(p) for p in pieces})
    if len(tags) > TAGS_MAX:
        raise ValidationError(field, None, f"{len(tags)} tags given, at most {TAGS_MAX} allowed")
    return tags


# ------------------------------------------------------------------------------ text


def normalize_text(field: str, raw: str | None, limit: int = TEXT_LIMIT) -> str:
    """Free text (name, reference, description, APN) stripped, printable, at most `limit` chars."""
    value = _as_text(field, raw).strip()
    if not value.isprintable():
        for position, c in enumerate(value, start=1):
            kind = _REFUSED_CATEGORIES.get(unicodedata.category(c))
            if kind is not None:
                raise ValidationError(
                    field, _shown(value), f"contains {kind} ({_char(c)}) at position {position}"
                )
    if len(value) > limit:
        raise ValidationError(
            field, _shown(value), f"has {len(value)} characters, at most {limit} allowed"
        )
    return value
