"""A failed read or write, said in words for the operator (never a traceback)."""

from simdeck.core.store import STORE_ERRORS, explain

__all__ = ["STORE_ERRORS", "explain"]
