"""``python -m simdeck.tui.cli``: how ``simdeck serve`` starts each browser session."""

from simdeck.tui.cli import main

main()
