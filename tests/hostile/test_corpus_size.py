"""The corpus cannot shrink silently: at least 200 cases (targets.md), every category and
every field of identifiers.md represented, every bug key real."""

from __future__ import annotations

from tests.hostile import corpus

MINIMUM = {
    "identifiers and settings": 150,
    "CLI arguments": 100,
    "CSV files": 45,
    "search strings": 60,
    "invalid search tokens": 5,
    "stored text": 12,
}


def test_at_least_200_cases() -> None:
    cases = corpus.all_cases()
    assert sum(len(c) for c in cases.values()) >= 200
    for category, minimum in MINIMUM.items():
        assert len(cases[category]) >= minimum, category


def test_every_field_is_broken_at_least_once() -> None:
    fields = {c["field"] for c in corpus.IDENTIFIER_CASES}
    assert fields == set(corpus.FIELDS.values())
    for field in corpus.FIELDS.values():
        refused = [c for c in corpus.IDENTIFIER_CASES if c["field"] == field]
        assert len(refused) >= 5, field


def test_the_required_search_strings_are_there() -> None:
    searched = {c["q"] for c in corpus.SEARCH_CASES}
    required = {"%", "_", "*", "?", "[a-z]", "\\", "'", '"', "' OR 1=1 --",
                '"); DROP TABLE endpoint; --', "NEAR(a b)", "a AND b", "^", "name:x*", "\x00",
                "x" * 10_000, "-", "state:", "-state:", "group:%", "tag:_"}
    assert required <= searched


def test_ids_are_unique_and_bugs_are_known() -> None:
    for cases in (corpus.IDENTIFIER_CASES, corpus.CLI_CASES, corpus.CSV_CASES):
        ids = [c["id"] for c in cases]
        assert len(ids) == len(set(ids))
        assert {c["bug"] for c in cases} - {None} <= set(corpus.BUGS)
    assert {c["bug"] for c in corpus.SEARCH_CASES} - {None} <= set(corpus.BUGS)
    assert {bug for _, _, bug in corpus.INVALID_SEARCH} - {None} <= set(corpus.BUGS)
    assert len({c["q"] for c in corpus.SEARCH_CASES}) == len(corpus.SEARCH_CASES)
