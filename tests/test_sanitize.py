"""The one sanitiser: control sequences shown, never emitted; formulas defused in CSV."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simdeck.core.sanitize import csv_cell, printable


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
    for cell in ("=HYPERLINK(\"http://x\")", "+cmd|'/C calc'!A0", "@SUM(A1)", "-2+3", "\tx"):
        assert csv_cell(cell) == "'" + cell
        assert csv_cell(cell, raw=True) == cell
    assert csv_cell("8944500310000000001") == "8944500310000000001"
    assert csv_cell(None) == ""
