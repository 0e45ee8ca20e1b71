"""Tests of core.identifiers: known real vectors, the messages a user reads, properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdeck.core.errors import ValidationError
from simdeck.core.identifiers import (
    ip_in_pool,
    luhn_check_digit,
    luhn_valid,
    make_eid,
    make_iccid,
    make_imei,
    normalize_eid,
    normalize_group_name,
    normalize_iccid,
    normalize_imei,
    normalize_imsi,
    normalize_imsis,
    normalize_ip,
    normalize_ip_pool,
    normalize_tag,
    normalize_tags,
    normalize_text,
)

REAL_ICCID = "89014103211118510720"
REAL_EID = "89049032123451234512345678901235"
REAL_IMEI = "490154203237518"


def message(fn: Callable[[str], object], raw: str) -> str:
    """The message of the ValidationError that fn(raw) raises."""
    with pytest.raises(ValidationError) as info:
        fn(raw)
    return str(info.value)


def name_text(raw: str) -> str:
    """normalize_text for the field "name" with the default limit."""
    return normalize_text("name", raw)


# ------------------------------------------------------------------------------ Luhn


def test_luhn_known_vectors() -> None:
    assert luhn_check_digit("7992739871") == 3
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_check_digit(REAL_ICCID[:-1]) == 0
    assert luhn_check_digit(REAL_IMEI[:-1]) == 8
    assert luhn_check_digit("") == 0


def test_luhn_refuses_non_digits() -> None:
    assert not luhn_valid("")
    assert not luhn_valid("12a4")
    assert not luhn_valid("١٢٣")  # Arabic-Indic digits are not ASCII digits
    with pytest.raises(ValueError):
        luhn_check_digit("12a")
    with pytest.raises(ValueError):
        luhn_check_digit("١٢٣")


def _slow_luhn(digits: str) -> int:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return -total % 10


@given(st.text(alphabet="0123456789", max_size=60))
def test_luhn_matches_the_textbook_loop(digits: str) -> None:
    check = luhn_check_digit(digits)
    assert check == _slow_luhn(digits)
    assert luhn_valid(digits + str(check))


# ----------------------------------------------------------------------------- ICCID


def test_iccid_real_vector() -> None:
    assert normalize_iccid(REAL_ICCID) == REAL_ICCID


def test_iccid_check_digit_message() -> None:
    # The spec's example says "should be 2"; the Luhn check digit of 894450031234567890 is 3.
    assert luhn_check_digit("894450031234567890") == 3
    assert (
        message(normalize_iccid, "8944500312345678901")
        == "ICCID 8944500312345678901: check digit should be 3, not 1"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "89014103211118510720F",
        "89014103211118510720ffff",
        " 8901 4103 2111 1851 0720 ",
        "8901-4103-2111-1851-0720",
        "8901-4103 2111-1851-0720FF",
        "\ufeff89014103211118510720",
        "8901\u00a04103211118510720",
    ],
)
def test_iccid_normalisation(raw: str) -> None:
    assert normalize_iccid(raw) == REAL_ICCID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "8.94E+18",
            "ICCID 8.94E+18: is in scientific notation (8.94E+18), as spreadsheets export it: "
            "the digits are lost, export the column as text",
        ),
        (
            "8,9401E+19",
            "ICCID 8,9401E+19: is in scientific notation (8,9401E+19), as spreadsheets export "
            "it: the digits are lost, export the column as text",
        ),
        ("89014103211118510", "ICCID 89014103211118510: has 17 digits, expected 18 to 22"),
        (
            "89014103211118510720123",
            "ICCID 89014103211118510720123: has 23 digits, expected 18 to 22",
        ),
        ("890141032111", "ICCID 890141032111: has 12 digits, expected 18 to 22"),
        ("98014103211118510720", "ICCID 98014103211118510720: must start with 89"),
        ("8901410321111851072x", "ICCID 8901410321111851072x: contains the character 'x'"),
        ("89F14103211118510720", "ICCID 89F14103211118510720: contains the character 'F'"),
        ("89014103211118510720.0", "ICCID 89014103211118510720.0: contains the character '.'"),
        ("8901\x0741", "ICCID 8901\\x0741: contains the character U+0007"),
        ("", "ICCID: is empty"),
        ("   \t ", "ICCID: is empty"),
        ("FFFF", "ICCID FFFF: has no digits, only F padding"),
    ],
)
def test_iccid_messages(raw: str, expected: str) -> None:
    assert message(normalize_iccid, raw) == expected


def test_iccid_lengths_18_and_22_accepted() -> None:
    for body in ("8901410321111851", "89014103211118510720"):  # 16 and 20 digits after 89..
        iccid = make_iccid(body + "1")
        assert normalize_iccid(iccid) == iccid
        assert len(iccid) in (18, 22)


def test_iccid_missing_check_digit_is_refused_by_luhn() -> None:
    # A 20-digit ICCID without its check digit: refused, not silently completed. (Its
    # last digit happens to be a wrong check digit for the rest, as it is 9 times in 10.)
    full = make_iccid("8944500312345678901")
    assert full == "89445003123456789013"
    assert (
        message(normalize_iccid, full[:-1])
        == "ICCID 8944500312345678901: check digit should be 3, not 1"
    )


def test_iccid_long_garbage_message_is_cut() -> None:
    text = message(normalize_iccid, "8" * 10_000)
    assert text == f"ICCID {'8' * 64}…: has 10000 digits, expected 18 to 22"


def test_make_iccid() -> None:
    assert make_iccid(REAL_ICCID[:-1]) == REAL_ICCID
    for bad in ("12345678901234567", "89", "8901410321111851X7", "8901410321111851072345"):
        with pytest.raises(ValueError):
            make_iccid(bad)


iccid_bodies = st.builds(
    lambda tail: "89" + tail,
    st.text(alphabet="0123456789", min_size=15, max_size=19),
)


@given(iccid_bodies)
def test_make_iccid_normalizes_to_itself(body: str) -> None:
    iccid = make_iccid(body)
    assert iccid.startswith(body)
    assert normalize_iccid(iccid) == iccid


@given(iccid_bodies, st.data())
def test_flipping_one_digit_of_an_iccid_makes_it_invalid(body: str, data: st.DataObject) -> None:
    iccid = make_iccid(body)
    position = data.draw(st.integers(0, len(iccid) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != iccid[position]]))
    changed = iccid[:position] + digit + iccid[position + 1 :]
    with pytest.raises(ValidationError) as info:
        normalize_iccid(changed)
    assert str(info.value).startswith(f"ICCID {changed}: ")


# ------------------------------------------------------------------------------ IMSI


def test_imsi_valid() -> None:
    assert normalize_imsi("001010123456789") == "001010123456789"  # test network MCC 001
    assert normalize_imsi(" 310 150 123456789 ") == "310150123456789"
    assert normalize_imsi("00101012345678") == "00101012345678"  # 14 digits, old networks
    assert normalize_imsi("000000000000000") == "000000000000000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0010101234567890", "IMSI 0010101234567890: has 16 digits, expected 15 (or 14)"),
        ("0010101234567", "IMSI 0010101234567: has 13 digits, expected 15 (or 14)"),
        ("00101-0123456789", "IMSI 00101-0123456789: contains the character '-'"),
        ("00101O123456789", "IMSI 00101O123456789: contains the character 'O'"),
        (
            "1.01012E+14",
            "IMSI 1.01012E+14: is in scientific notation (1.01012E+14), as spreadsheets "
            "export it: the digits are lost, export the column as text",
        ),
        ("", "IMSI: is empty"),
        (" ", "IMSI: is empty"),
    ],
)
def test_imsi_messages(raw: str, expected: str) -> None:
    assert message(normalize_imsi, raw) == expected


def test_imsi_lists() -> None:
    first, second, third = "001010000000001", "001010000000002", "001010000000003"
    assert normalize_imsis(f"{first};{second}") == [first, second]
    assert normalize_imsis(f"{second}; {first};") == [second, first]
    assert normalize_imsis(f"{first},{second} {third}") == [first, second, third]
    assert normalize_imsis(f"{first}\n{second}") == [first, second]
    assert normalize_imsis([first, " 00101 0000000002 "]) == [first, second]
    assert normalize_imsis(first) == [first]


def test_imsi_list_messages() -> None:
    first = "001010000000001"
    assert message(normalize_imsis, f"{first};{first}") == f"IMSI {first}: is listed twice"
    assert message(normalize_imsis, ";;") == "IMSI: is empty"
    assert message(normalize_imsis, "") == "IMSI: is empty"
    with pytest.raises(ValidationError, match="^IMSI: is empty$"):
        normalize_imsis([])
    with pytest.raises(ValidationError, match="^IMSI 123: has 3 digits"):
        normalize_imsis([first, "123"])
    sixteen = [f"0010100000000{i:02d}" for i in range(16)]
    assert normalize_imsis(";".join(sixteen)) == sixteen
    seventeen = ";".join([*sixteen, "001010000000099"])
    assert message(normalize_imsis, seventeen) == "IMSI: 17 IMSIs given, at most 16 allowed"


# ------------------------------------------------------------------------------- EID


def test_eid_real_vector() -> None:
    assert normalize_eid(REAL_EID) == REAL_EID
    assert normalize_eid("8904 9032 1234 5123 4512 3456 7890 1235") == REAL_EID
    assert int(REAL_EID) % 97 == 1
    assert make_eid(REAL_EID[:30]) == REAL_EID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "89049032123451234512345678901234",
            "EID 89049032123451234512345678901234: check digits should be 35, not 34",
        ),
        (
            "8904903212345123451234567890123",
            "EID 8904903212345123451234567890123: has 31 digits, expected 32",
        ),
        (
            "890490321234512345123456789012350",
            "EID 890490321234512345123456789012350: has 33 digits, expected 32",
        ),
        (
            "8904-9032123451234512345678901235",
            "EID 8904-9032123451234512345678901235: contains the character '-'",
        ),
        ("", "EID: is empty"),
    ],
)
def test_eid_messages(raw: str, expected: str) -> None:
    assert message(normalize_eid, raw) == expected


def test_make_eid_refuses_bad_bodies() -> None:
    for bad in ("", "1" * 29, "1" * 31, "8904903212345123451234567890X2", "٨" * 30):
        with pytest.raises(ValueError):
            make_eid(bad)


@given(st.text(alphabet="0123456789", min_size=30, max_size=30))
def test_make_eid_output_is_valid(first30: str) -> None:
    eid = make_eid(first30)
    assert eid.startswith(first30)
    assert int(eid) % 97 == 1
    assert normalize_eid(eid) == eid


# ------------------------------------------------------------------------------ IMEI


@pytest.mark.parametrize(
    "raw",
    [
        "490154203237518",
        "49015420323751",
        "49-015420-323751-8",
        "49 015420 323751 8",
        "490154/20/323751/8",
        "49-015420-323751",
    ],
)
def test_imei_normalisation(raw: str) -> None:
    assert normalize_imei(raw) == REAL_IMEI


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("490154203237519", "IMEI 490154203237519: check digit should be 8, not 9"),
        (
            "4901542032375",
            "IMEI 4901542032375: has 13 digits, expected 15 (or 14 without the check digit)",
        ),
        (
            "4901542032375180",
            "IMEI 4901542032375180: has 16 digits, expected 15 (or 14 without the check "
            "digit); 16 digits is an IMEISV, not an IMEI",
        ),
        ("49015420323751A", "IMEI 49015420323751A: contains the character 'A'"),
        ("", "IMEI: is empty"),
    ],
)
def test_imei_messages(raw: str, expected: str) -> None:
    assert message(normalize_imei, raw) == expected


def test_make_imei() -> None:
    assert make_imei("49015420323751") == REAL_IMEI
    for bad in ("4901542032375", "490154203237518", "4901542032375X"):
        with pytest.raises(ValueError):
            make_imei(bad)


# -------------------------------------------------------------------------------- IP


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.0.0.1", "10.0.0.1"),
        (" 192.168.1.20 ", "192.168.1.20"),
        ("100.64.0.1", "100.64.0.1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_ip_valid(raw: str, expected: str) -> None:
    assert normalize_ip(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "10.0.0.0/24",
            "static IP 10.0.0.0/24: has a /prefix: a static IP is one address, not a network",
        ),
        (
            "10.0.0.1/32",
            "static IP 10.0.0.1/32: has a /prefix: a static IP is one address, not a network",
        ),
        ("224.0.0.1", "static IP 224.0.0.1: is a multicast address, not a host address"),
        ("ff02::1", "static IP ff02::1: is a multicast address, not a host address"),
        ("0.0.0.0", "static IP 0.0.0.0: is the unspecified address, not a host address"),
        ("::", "static IP ::: is the unspecified address, not a host address"),
        ("127.0.0.1", "static IP 127.0.0.1: is a loopback address, which a device cannot hold"),
        ("::1", "static IP ::1: is a loopback address, which a device cannot hold"),
        (
            "169.254.1.1",
            "static IP 169.254.1.1: is a link-local address, which a device cannot hold",
        ),
        ("fe80::1", "static IP fe80::1: is a link-local address, which a device cannot hold"),
        (
            "255.255.255.255",
            "static IP 255.255.255.255: is the broadcast address, not a host address",
        ),
        (
            "2001:db8::1%eth0",
            "static IP 2001:db8::1%eth0: has a zone index (%...), which a static IP cannot have",
        ),
        ("10.0.0.256", "static IP 10.0.0.256: is not an IPv4 or IPv6 address"),
        ("010.0.0.1", "static IP 010.0.0.1: is not an IPv4 or IPv6 address"),
        ("hello", "static IP hello: is not an IPv4 or IPv6 address"),
        ("", "static IP: is empty"),
    ],
)
def test_ip_messages(raw: str, expected: str) -> None:
    assert message(normalize_ip, raw) == expected


def test_ip_pool() -> None:
    assert normalize_ip_pool(" 10.0.0.0/24 ") == "10.0.0.0/24"
    assert normalize_ip_pool("2001:DB8::/64") == "2001:db8::/64"
    assert (
        message(normalize_ip_pool, "10.0.0.1/24")
        == "IP pool 10.0.0.1/24: has host bits set: the network is 10.0.0.0/24"
    )
    assert (
        message(normalize_ip_pool, "10.0.0.0")
        == "IP pool 10.0.0.0: has no /prefix: write a network such as 10.0.0.0/24"
    )
    assert (
        message(normalize_ip_pool, "10.0.0.0/33")
        == "IP pool 10.0.0.0/33: is not an IPv4 or IPv6 network such as 10.0.0.0/24"
    )
    assert message(normalize_ip_pool, "") == "IP pool: is empty"


def test_ip_in_pool() -> None:
    assert ip_in_pool("10.0.0.5", "10.0.0.0/24")
    assert ip_in_pool("10.0.0.255", "10.0.0.0/24")
    assert not ip_in_pool("10.0.1.5", "10.0.0.0/24")
    assert ip_in_pool("2001:db8::5", "2001:db8::/64")
    assert not ip_in_pool("2001:db8::5", "10.0.0.0/8")
    assert not ip_in_pool("10.0.0.5", "2001:db8::/64")
    with pytest.raises(ValidationError, match="^static IP nope: "):
        ip_in_pool("nope", "10.0.0.0/24")
    with pytest.raises(ValidationError, match="^IP pool 10.0.0.1/24: "):
        ip_in_pool("10.0.0.5", "10.0.0.1/24")


# ------------------------------------------------------------------- names and tags


def test_group_names() -> None:
    assert normalize_group_name("  prod-sensors_v2.eu ") == "prod-sensors_v2.eu"
    assert normalize_group_name("a") == "a"
    assert normalize_group_name("a" * 64) == "a" * 64
    assert (
        message(normalize_group_name, "a" * 65)
        == f"group name {'a' * 64}…: has 65 characters, at most 64 allowed"
    )
    assert (
        message(normalize_group_name, "Prod-Sensors")
        == "group name Prod-Sensors: contains the upper-case letter 'P': "
        "group names are lower case only"
    )
    assert message(normalize_group_name, "a b") == "group name a b: contains the character ' '"
    assert message(normalize_group_name, "a:b") == "group name a:b: contains the character ':'"
    assert message(normalize_group_name, "café") == "group name café: contains the character 'é'"
    assert message(normalize_group_name, "   ") == "group name: is empty"


def test_tags() -> None:
    assert normalize_tag(" Site:Berlin ") == "site:berlin"
    assert normalize_tag("a") == "a"
    assert normalize_tag("a" * 32) == "a" * 32
    assert (
        message(normalize_tag, "a" * 33) == f"tag {'a' * 33}: has 33 characters, at most 32 allowed"
    )
    assert message(normalize_tag, "a#b") == "tag a#b: contains the character '#'"
    assert message(normalize_tag, "a b") == "tag a b: contains the character ' '"
    # Only A-Z are lower-cased: the Kelvin sign does not silently become "k".
    assert message(normalize_tag, "\u212a") == "tag \u212a: contains the character '\u212a'"
    assert message(normalize_tag, "") == "tag: is empty"


def test_tag_lists() -> None:
    assert normalize_tags("b, A  a,c") == ["a", "b", "c"]
    assert normalize_tags(["Zone:1", "zone:1", " x "]) == ["x", "zone:1"]
    assert normalize_tags("") == []
    assert normalize_tags(" , ") == []
    assert normalize_tags([]) == []
    thirty_two = [f"t{i:02d}" for i in range(32)]
    assert normalize_tags(",".join(thirty_two)) == thirty_two
    assert normalize_tags([*thirty_two, "t00"]) == thirty_two
    assert (
        message(normalize_tags, ",".join([*thirty_two, "t99"]))
        == "tag: 33 tags given, at most 32 allowed"
    )
    assert message(normalize_tags, "ok,b@d") == "tag b@d: contains the character '@'"


# ------------------------------------------------------------------------------ text


def test_text() -> None:
    assert normalize_text("name", "  Pump 7 — Zürich 東京 ") == "Pump 7 — Zürich 東京"
    assert normalize_text("reference", None) == ""
    assert normalize_text("description", "") == ""
    assert normalize_text("name", "x" * 128) == "x" * 128
    assert normalize_text("description", "x" * 500, limit=500) == "x" * 500
    assert (
        message(name_text, "x" * 129)
        == f"name {'x' * 64}…: has 129 characters, at most 128 allowed"
    )
    assert (
        message(name_text, "ab\x07c")
        == "name ab\\x07c: contains a control character (U+0007) at position 3"
    )
    assert (
        message(name_text, " line\nbreak ")
        == "name line\\nbreak: contains a control character (U+000A) at position 5"
    )
    assert (
        message(name_text, "a\u200bb")
        == "name a\\u200bb: contains a control character (U+200B) at position 2"
    )
    assert (
        message(name_text, "a\u2028b")
        == "name a\\u2028b: contains a line separator (U+2028) at position 2"
    )
    with pytest.raises(ValidationError, match="^APN "):
        normalize_text("APN", "internet\t2")


# ------------------------------------------------------------------------ properties

NORMALIZERS: list[tuple[str, Callable[[str], object]]] = [
    ("ICCID", normalize_iccid),
    ("IMSI", normalize_imsi),
    ("IMSI", normalize_imsis),
    ("EID", normalize_eid),
    ("IMEI", normalize_imei),
    ("static IP", normalize_ip),
    ("IP pool", normalize_ip_pool),
    ("group name", normalize_group_name),
    ("tag", normalize_tag),
    ("tag", normalize_tags),
    ("name", name_text),
    ("reference", lambda raw: normalize_text("reference", raw)),
    ("APN", lambda raw: normalize_text("APN", raw, limit=100)),
    ("description", lambda raw: normalize_text("description", raw, limit=1000)),
]

any_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Cs"])),
    st.text(alphabet="0123456789 -/fF.,;:eE+%x", max_size=40),
    st.text(alphabet="0123456789", min_size=10, max_size=40),
    st.text(alphabet="αβγδ東京日本ЖЗИЙ٠١٢٣٤٥٦٧٨٩", max_size=50),
    st.integers(0, 20_000).map(lambda n: "8" * n),
    st.integers(0, 20_000).map(lambda n: "a\x00" * (n // 2)),
)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_any_text_raises_only_validation_errors(raw: str) -> None:
    for field, fn in NORMALIZERS:
        try:
            fn(raw)
        except ValidationError as error:
            text = str(error)
            assert text.startswith(f"{field} ") or text.startswith(f"{field}:"), text
            assert error.field == field
            assert "\n" not in text


def test_none_is_empty_or_refused_cleanly() -> None:
    assert normalize_text("name", None) == ""
    assert normalize_tags(None) == []  # type: ignore[arg-type]
    for field, fn in NORMALIZERS[:9]:
        with pytest.raises(ValidationError) as info:
            fn(None)  # type: ignore[arg-type]
        assert str(info.value) == f"{field}: is empty"


@given(st.text(min_size=1, max_size=20), st.text(max_size=300))
def test_text_message_starts_with_any_field(field: str, raw: str) -> None:
    try:
        normalize_text(field, raw)
    except ValidationError as error:
        assert str(error).startswith(field)


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_make_imei_normalizes_to_itself(body: str) -> None:
    imei = make_imei(body)
    assert normalize_imei(imei) == imei
    assert normalize_imei(body) == imei
