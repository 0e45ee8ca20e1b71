"""The one sanitiser: control sequences shown, never emitted; formulas defused in CSV."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from simdeck.core.sanitize import FORMULA_START, csv_cell, json_text, printable


def test_an_osc_52_clipboard_write_is_shown_not_sent() -> None:
    hostile = "batch-\x1b]52;c;ZWNobyBwd25lZA==\x07.csv"
    assert printable(hostile) == "batch-\\e]52;c;ZWNobyBwd25lZA==\\x07.csv"


def test_c1_controls_bidi_overrides_and_line_breaks_are_escaped() -> None:
    assert printable("a\x9bb\u202ec\nd") == "a\\x9bb\\u202ec\\nd"
    assert printable("line one\nline\ttwo", multiline=True) == "line one\nline\ttwo"


def test_plain_words_and_other_scripts_pass_unchanged() -> None:
    assert printable("Zwickau Ü 東京 [bold]x[/]") == "Zwickau Ü 東京 [bold]x[/]"
    assert printable(None) == ""


@given(st.text())
def test_nothing_printable_emits_a_control_character(text: str) -> None:
    shown = printable(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_formula_cells_are_quoted_unless_raw() -> None:
    for cell in ("=HYPERLINK(\"http://x\")", "+cmd|'/C calc'!A0", "@SUM(A1)", "-2+3"):
        assert csv_cell(cell) == "'" + cell
        assert csv_cell(cell, raw=True) == cell
    # A leading tab or CR is a control character: shown as an escape, it starts no formula.
    assert csv_cell("\tx") == "\\tx" and csv_cell("\r=1+1") == "\\r=1+1"
    assert csv_cell("a\x1b]52;c;eA==\x07") == "a\\e]52;c;eA==\\x07"
    assert csv_cell("\tx", raw=True) == "\tx"
    assert csv_cell("8944500310000000001") == "8944500310000000001"
    assert csv_cell(None) == ""


@given(st.one_of(st.text(), st.integers(), st.booleans(), st.none(),
                 st.sampled_from(["", "-", "-1", " -1", "=", "@x", "a,b", "\u202e", "\u00ad"])))
def test_every_cell_is_printable_then_defused(value: object) -> None:
    """Plain text and whole numbers are answered at once; every value is still what the
    general rule makes of it: shown printable, then a formula's first character quoted."""
    text = printable("" if value is None else str(value))
    assert csv_cell(value) == ("'" + text if text.startswith(FORMULA_START) else text)
    assert csv_cell(value, raw=True) == ("" if value is None else str(value))


def test_negative_numbers_and_empty_cells() -> None:
    assert csv_cell(-5) == "'-5" and csv_cell(0) == "0" and csv_cell(True) == "True"
    assert csv_cell("") == "" and csv_cell("-") == "'-" and csv_cell(" =1") == " =1"


def test_every_control_format_and_separator_character_is_escaped() -> None:
    """Across all of Unicode: a character that is not printable (bar newline and tab when
    several lines are allowed) never comes out as itself."""
    for code in range(0x110000):
        char = chr(code)
        if char.isprintable() or 0xD800 <= code <= 0xDFFF:
            continue
        if code in (0x0A, 0x09):
            assert printable(char) != char and printable(char, multiline=True) == char
            continue
        control = code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF) \
            or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069
        if control:
            assert printable(char) != char, hex(code)


def test_json_text_escapes_what_json_leaves_raw_and_keeps_the_value() -> None:
    value = {"name": "a\x1b]0;t\x07 \x9b \u202e 東京 \x7f"}
    dumped = json_text(json.dumps(value, ensure_ascii=False, indent=2))
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F or c == "\u202e"
                   for c in dumped)
    assert "東京" in dumped and "\\u009b" in dumped and "\\u202e" in dumped
    assert json.loads(dumped) == value
