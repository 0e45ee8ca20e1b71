"""Identifiers and settings: every rule of identifiers.md broken, refused by core with a
ValidationError whose message starts with the field, and refused on the way to the database
(create an endpoint or a group, import a SIM) with nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import auth, db, models, records
from simdeck.core import identifiers as ids
from simdeck.core.errors import ValidationError
from simdeck.core.importer import import_sims
from tests.hostile.corpus import ACCEPTED_IDENTIFIERS, IDENTIFIER_CASES, iccid, imsi
from tests.hostile.helpers import copy_db, marks, snapshot

NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "iccid": ids.normalize_iccid,
    "imsi": ids.normalize_imsi,
    "imsis": ids.normalize_imsis,
    "eid": ids.normalize_eid,
    "imei": ids.normalize_imei,
    "ip": ids.normalize_ip,
    "ip_pool": ids.normalize_ip_pool,
    "group_name": ids.normalize_group_name,
    "tag": ids.normalize_tag,
    "tags": ids.normalize_tags,
    "name": lambda raw: ids.normalize_text("name", raw),
    "reference": lambda raw: ids.normalize_text("reference", raw),
}

#: How a value of each kind reaches the database through core (IMSI and EID: by import).
WRITERS: dict[str, Callable[[auth.Actor, Any], Any]] = {
    "iccid": lambda actor, raw: records.create_endpoint(actor, name="w", sim=raw),
    "imei": lambda actor, raw: records.create_endpoint(actor, name="w", imei_lock=raw),
    "ip": lambda actor, raw: records.create_endpoint(actor, name="w", static_ip=raw),
    "ip_pool": lambda actor, raw: records.create_group(actor, "pool-probe", ip_pool=raw),
    "group_name": lambda actor, raw: records.create_group(actor, raw),
    "tag": lambda actor, raw: records.create_endpoint(actor, name="w", tags=[raw]),
    "tags": lambda actor, raw: records.create_endpoint(actor, name="w", tags=raw),
    "name": lambda actor, raw: records.create_endpoint(actor, name=raw),
    "reference": lambda actor, raw: records.create_endpoint(actor, name="w", reference=raw),
}
IMPORTED = ("imsi", "imsis", "eid")
#: Kinds whose empty value means "none" on the way to the database (not a refusal).
EMPTY_MEANS_NONE = ("iccid", "imei", "ip", "ip_pool", "tag", "eid")


def _reaches_database(case: dict[str, Any]) -> bool:
    raw, kind = case["raw"], case["kind"]
    if kind == "tags":
        return isinstance(raw, str | list)
    if not isinstance(raw, str):
        return False
    return not (kind in EMPTY_MEANS_NONE and not raw.strip())


def _params(cases: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(c, id=c["id"], marks=marks(c["bug"])) for c in cases]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with its admin, a group and an endpoint: what the writes are tried on."""
    path = tmp_path_factory.mktemp("identifiers") / "template.db"
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user="admin")
    records.create_group(actor, "vantiq-connect-eu", apn="iot.example")
    records.create_endpoint(actor, name="existing", group="vantiq-connect-eu")
    db.database.close()
    return path


@pytest.fixture
def actor(template: Path, tmp_path: Path) -> Iterator[tuple[auth.Actor, Path]]:
    path = copy_db(template, tmp_path / "t.db")
    db.open_database(str(path))
    yield auth.login(user="admin"), path
    db.database.close()


@pytest.mark.parametrize("case", _params(IDENTIFIER_CASES))
def test_core_refuses_naming_the_field(case: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        NORMALIZERS[case["kind"]](case["raw"])
    exc = info.value
    message = str(exc)
    assert exc.field == case["field"]
    assert message.startswith(case["field"]), message
    assert "Traceback" not in message
    # The refused value is repeated escaped: a message never carries a control character.
    assert message.isprintable(), repr(message)


@pytest.mark.parametrize("case", _params([c for c in IDENTIFIER_CASES if _reaches_database(c)]))
def test_refused_on_the_way_to_the_database(
    case: dict[str, Any], actor: tuple[auth.Actor, Path], tmp_path: Path
) -> None:
    who, path = actor
    before = snapshot(path)
    kind, raw, field = case["kind"], case["raw"], case["field"]
    if kind in IMPORTED:
        def cell(text: str) -> str:
            return '"' + text.replace('"', '""') + '"'

        imsi_cell = raw if kind != "eid" else imsi(1)
        eid_cell = raw if kind == "eid" else ""
        csv_file = tmp_path / "one.csv"
        csv_file.write_text(f"iccid,imsi,eid\n{iccid(1)},{cell(imsi_cell)},{cell(eid_cell)}\n",
                            encoding="utf-8")
        report = import_sims(who, csv_file)
        assert not report.ok() and report.imported == 0
        assert any(message.startswith(field) for _, message in report.errors), report.errors
    else:
        with pytest.raises(ValidationError) as info:
            WRITERS[kind](who, raw)
        assert str(info.value).startswith(field), str(info.value)
    db.database.close()
    assert snapshot(path) == before


@pytest.mark.parametrize(("kind", "raw", "stored"), ACCEPTED_IDENTIFIERS,
                         ids=[f"{k}: {r!r}"[:60] for k, r, _ in ACCEPTED_IDENTIFIERS])
def test_hostile_looking_but_valid_values_are_accepted(kind: str, raw: Any, stored: Any) -> None:
    assert NORMALIZERS[kind](raw) == stored
