"""The audit wording the console's audit screen imports from here; it lives in tui.text."""

from __future__ import annotations

from simdeck.tui.text import change, detail_text

__all__ = ["change", "detail_text"]
