"""Hostile search strings are matched literally, never as a pattern or as SQL.

A small fleet whose names and references literally hold ``%``, ``_``, ``'``, ``[a-z]``,
``*``, Cyrillic, Arabic, CJK and emoji, each beside a near miss that a pattern would also
match. The expectation is computed in Python from the rows: the box's syntax splits the
text into tokens (``queries.tokenize``: words, ``field:value``, ``-`` negation, "quoted
phrases"); a free word matches an ICCID prefix (digits) or a name or reference that holds
it, case-insensitively; each token field by its own column. A search must return exactly
those endpoints, in core and through ``simdeck endpoints list --search … --format json``
(exit 0), and leave the database as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import auth, db, models, queries, records
from simdeck.core.errors import ValidationError
from simdeck.core.models import Endpoint, EndpointGroup, EndpointTag, Imsi, Sim
from tests.conftest import Maker
from tests.hostile.corpus import INVALID_SEARCH, SEARCH_CASES, SEARCH_FLEET, SEARCH_GROUPS
from tests.hostile.helpers import (
    assert_no_crash,
    assert_printable,
    call,
    marks,
    message_line,
    run_cli,
    snapshot,
)


@dataclass(frozen=True)
class Row:
    id: int
    iccid: str
    name: str
    reference: str
    state: str
    group: str | None
    tags: frozenset[str]
    imsis: tuple[str, ...]
    eid: str | None
    static_ip: str | None
    imei_lock: str | None


@dataclass(frozen=True)
class Fleet:
    path: Path
    rows: tuple[Row, ...]
    before: dict[str, Any]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    path = tmp_path_factory.mktemp("search") / "fleet.db"
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user="admin")
    make = Maker(actor)
    for group in SEARCH_GROUPS:
        make.group(group)
    for spec in SEARCH_FLEET:
        records.create_endpoint(
            actor, name=spec["name"], reference=spec["reference"], tags=spec.get("tags", ()),
            group=spec.get("group"), sim=make.sim() if spec.get("sim") else None,
            static_ip=spec.get("static_ip"), imei_lock=spec.get("imei_lock"),
        )
    groups = {g.id: g.name for g in EndpointGroup.select()}
    rows = []
    for e in Endpoint.select().order_by(Endpoint.id):
        sim = Sim.get_or_none(Sim.endpoint == e.id)
        imsis = tuple(i.imsi for i in Imsi.select().where(Imsi.sim == sim.id)) if sim else ()
        tags = frozenset(t.tag for t in EndpointTag.select().where(EndpointTag.endpoint == e.id))
        rows.append(Row(e.id, e.iccid, e.name, e.reference, e.state,
                        groups.get(e.group_id), tags, imsis, sim.eid if sim else None,
                        e.static_ip, e.imei_lock))
    db.database.close()
    assert len(rows) == len(SEARCH_FLEET)
    return Fleet(path, tuple(rows), snapshot(path))


@pytest.fixture
def opened(fleet: Fleet) -> Iterator[Fleet]:
    db.open_database(str(fleet.path))
    yield fleet
    db.database.close()
    assert snapshot(fleet.path) == fleet.before


# --- the literal reading ------------------------------------------------------------------


def _holds(haystack: str | None, needle: str) -> bool:
    return haystack is not None and needle.lower() in haystack.lower()


def _starts(value: str | None, prefix: str) -> bool:
    return bool(value) and str(value).startswith(prefix)


def _matches(row: Row, tok: queries.Token) -> bool:
    field, value = tok.field, tok.value
    if field is None:
        digits = re.sub(r"[\s\-]", "", value)
        if digits.isascii() and digits.isdigit() and _starts(row.iccid, digits):
            return True
        return _holds(row.name, value) or _holds(row.reference, value)
    if field == "state":
        return row.state == queries.parse_state(value).value
    if field == "group":
        return row.group is None if value.lower() in ("none", "-") else row.group == value
    if field == "tag":
        return value.lower() in row.tags
    if field == "name":
        return _holds(row.name, value)
    if field == "ref":
        return _holds(row.reference, value)
    if field == "iccid":
        return _starts(row.iccid, re.sub(r"[\s\-]", "", value).rstrip("Ff") or value)
    if field == "imsi":
        return any(_starts(i, re.sub(r"[\s\-]", "", value)) for i in row.imsis)
    if field == "eid":
        return _starts(row.eid, re.sub(r"[\s\-]", "", value))
    if field == "imei":
        return _starts(row.imei_lock, re.sub(r"[\s\-/]", "", value))
    if field == "ip":
        return _starts(row.static_ip, value.strip())
    raise AssertionError(f"no model for the token field {field}")


def expected(rows: tuple[Row, ...], search: str) -> set[int]:
    tokens = queries.tokenize(search)
    return {r.id for r in rows
            if all(_matches(r, t) != t.negated for t in tokens)}


def _acceptable(fleet: Fleet, case: dict[str, Any]) -> list[set[int]]:
    """The results a literal reading allows (two for a degenerate prefix: all or none)."""
    want = expected(fleet.rows, case["q"])
    return [want, set()] if case["degenerate"] else [want]


PARAMS = [pytest.param(c, id=repr(c["q"])[:40], marks=marks(c["bug"])) for c in SEARCH_CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_core_search_is_literal(case: dict[str, Any], opened: Fleet) -> None:
    f = queries.Filter(search=case["q"])
    found = {r.id for r in call(lambda: queries.page(f, limit=1000), "queries.page")}
    assert found in _acceptable(opened, case), (sorted(found), case["q"][:80])
    assert call(lambda: queries.count(f), "queries.count") == len(found)


@pytest.mark.parametrize("case", PARAMS)
def test_cli_search_is_literal(case: dict[str, Any], fleet: Fleet) -> None:
    result = run_cli(fleet.path, ["endpoints", "list", "--search", case["q"], "--format", "json",
                                  "--limit", "0"])
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    found = {item["id"] for item in json.loads(result.stdout)}
    assert found in _acceptable(fleet, case), sorted(found)
    assert snapshot(fleet.path) == fleet.before


@pytest.mark.parametrize("case", [pytest.param(c, id=repr(c["q"])[:40]) for c in SEARCH_CASES])
def test_sim_picker_search_is_literal(case: dict[str, Any], opened: Fleet) -> None:
    """The SIM search takes ICCID, EID or IMSI prefixes: a word that is not digits finds none."""
    found = {s.iccid for s in call(lambda: queries.sim_page(search=case["q"], limit=1000),
                                   "queries.sim_page")}
    words = [re.sub(r"[\s\-]", "", w) for w in case["q"].split()]
    if any(not (w.isascii() and w.isdigit()) for w in words):
        assert found == set()
    else:
        sims = list(Sim.select())
        want = {s.iccid for s in sims if all(
            s.iccid.startswith(w) or (s.eid or "").startswith(w)
            or any(i.imsi.startswith(w) for i in Imsi.select().where(Imsi.sim == s.id))
            for w in words)}
        assert found == want


@pytest.mark.parametrize(("search", "field"), [
    pytest.param(search, field, id=repr(search)[:40], marks=marks(bug))
    for search, field, bug in INVALID_SEARCH
])
def test_invalid_token_is_refused_naming_the_field(
    search: str, field: str, fleet: Fleet
) -> None:
    db.open_database(str(fleet.path))
    try:
        with pytest.raises(ValidationError) as info:
            queries.page(queries.Filter(search=search))
        assert info.value.field == field
        assert str(info.value).startswith(field)
        assert_printable(str(info.value))
    finally:
        db.database.close()
    result = run_cli(fleet.path, ["endpoints", "list", "--search", search, "--format", "json"],
                     color=True)
    assert_no_crash(result)
    assert result.exit_code == 2
    assert message_line(result.stderr).startswith(f"simdeck: {field}")
    assert_printable(result.stderr)
    assert snapshot(fleet.path) == fleet.before
