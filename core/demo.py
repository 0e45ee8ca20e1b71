"""The demo fleet: Vantiq Motors' connected vehicles, one eSIM each, every state represented.

``build_demo`` fills a new, empty database with a fleet in the spirit of the Vantiq
Motors example: Endpoint Groups per region, one endpoint per vehicle (name
``VM-EU-ID4-0001234``, the VIN as reference, model and plant tags), its SIM with ICCID,
EID and IMSIs, a pool of Ready to Activate SIMs, static IPs and IMEI locks, an audit
trail for a sample of the fleet, and two finished bulk jobs.

Decisions:
- Deterministic: everything random comes from ``random.Random(seed)`` (drawn as bytes,
  so a million draws cost milliseconds) and from ``now``; the same seed and ``now``
  give the same rows. Identifiers that must be unique come from counters, never from
  chance: ICCIDs, EIDs, IMSIs, names, VINs, static IPs, IMEIs.
- A SIM's own facts (eSIM or plastic, how many IMSIs) come from a hash of its number
  with salts drawn from the seed, so SQLite derives the ``sim``, ``imsi`` and
  ``endpoint_tag`` tables from the endpoints with ``INSERT … SELECT``;
  ``_Fleet.sim_rows``/``imsi_rows``/``tag_rows`` make the same rows in Python (the
  PostgreSQL path, and a test that checks the two agree).
- Audit history for a sample only (all of the first 2,000 endpoints, then every
  50th): created, SIM linked, group assigned, network attach/detach, suspended or
  terminated, as its state needs. The latest state-changing event of a sampled
  endpoint ends in its state. Events are inserted in time order, so ids follow time.
- A terminated endpoint was terminated from a state that had a SIM (never from Hold),
  so every endpoint out of Hold has a SIM. About a fifth were terminated 90 days ago
  or more, so purge has work.
- SQLite, for speed at a million endpoints: tables without secondary indexes, bulk
  statements (``executemany`` for the endpoints, then ``INSERT … SELECT``) with the
  rollback journal in memory, ``synchronous=OFF`` and foreign keys off (a new database:
  nothing to protect), indexes and the trigram index last (``create_indexes``, then one
  ``rebuild`` with a large buffer rather than a trigger per row), a bounded ANALYZE;
  journal mode, synchronous and foreign_keys are set back at the end.
- From PARALLEL_FROM endpoints on, when a core is free, the work is cut in two for the
  two cores (threads help little: this SQLite build serialises its allocations). A
  worker process draws the same fleet and builds the ``endpoint`` table with its
  indexes and the trigram index in a scratch file next to the target; meanwhile this
  process loads everything else from a narrow scratch copy of the endpoints. Then
  ``INSERT INTO endpoint SELECT * FROM …`` copies the table into the target with each
  of its indexes record by record, in order (SQLite's transfer optimisation: no sort),
  and the trigram index's shadow tables are copied likewise. Both ways give the same
  database, byte for byte in content (a test checks it). Smaller fleets, in-memory
  databases and PostgreSQL (``insert_many`` in batches) are built in one process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pwd
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

import peewee as pw

from . import models
from .db import database, is_sqlite
from .errors import InputError
from .identifiers import luhn_check_digit, make_eid
from .lifecycle import ACTIONS, RETENTION_DAYS, Role, State

DAY = 86_400

#: Endpoints with a full history in the audit trail: all of the first, then every 50th.
HISTORY_FIRST = 2000
HISTORY_EVERY = 50

#: Ready to Activate SIMs in the pool, as a share of the fleet (at least POOL_MIN).
POOL_SHARE = 0.03
POOL_MIN = 50

#: Rows per executemany / insert_many batch.
BATCH = 50_000
PG_BATCH = 5_000

#: From this many endpoints on, a SQLite file is built by two processes (see above).
PARALLEL_FROM = 100_000

STATE_WEIGHTS: dict[State, int] = {
    State.ACTIVE: 45,
    State.IDLE: 20,
    State.DETACHED: 10,
    State.SUSPENDED: 6,
    State.PENDING: 6,
    State.PRE_ACTIVE: 4,
    State.HOLD: 4,
    State.TERMINATED: 5,
}

#: The state a terminated endpoint had before; never Hold, so it keeps a SIM.
BEFORE_TERMINATION_WEIGHTS: dict[State, int] = {
    State.ACTIVE: 40,
    State.IDLE: 15,
    State.DETACHED: 15,
    State.SUSPENDED: 18,
    State.PENDING: 7,
    State.PRE_ACTIVE: 5,
}

#: Share (of 256) of live grouped endpoints with a static IP, and of linked ones with an
#: IMEI lock.
STATIC_IP_OF_256 = 28
IMEI_LOCK_OF_256 = 26
#: Share (of 256) of Hold endpoints that keep a group, and of Hold/Pending endpoints
#: created with "activate immediately" off.
HOLD_GROUPED_OF_256 = 128
NOT_IMMEDIATE_OF_256 = 26

#: Tags some vehicles have besides model and plant.
EXTRA_TAGS: tuple[tuple[str, int], ...] = (("", 85), ("fleet-a", 6), ("fleet-b", 5), ("pilot", 4))

#: IMSI networks: (printf format, first MSIN). MCC 234 MNC 15, MCC 310 MNC 260, and the
#: test network MCC 001 MNC 01; a SIM's IMSIs are its home network, then the next ones.
IMSI_NETWORKS: tuple[tuple[str, int], ...] = (
    ("23415%010d", 7_000_000_000),
    ("310260%09d", 700_000_000),
    ("00101%010d", 7_000_000_000),
)

ICCID_PREFIX = "89445003"  # 89 telecom, 44 UK, issuer 5003; then a 10-digit serial
ICCID_FIRST = 10_000_000
EID_PREFIX = "890490320040001000"  # 18 digits, then a 12-digit serial and 2 check digits
IMEI_TACS = ("35899710", "35899711", "35899712", "35899713", "35899714", "35899715")
#: Static IPs for a group without a pool.
SPARE_POOL = "172.16.0.0/12"

# Hash of a SIM's number: eSIM or plastic, how many IMSIs. Products stay below 2**63
# (SQLite turns a larger integer product into a float).
_HASH_A = 2_654_435_761
_HASH_B = 2_246_822_519
_ESIM_PERCENT = 85
_MULTI_IMSI_PERCENT = 10

VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model year codes from 1980, 30 years round


@dataclass(frozen=True)
class _Line:
    """A model built at a plant, as sold in a region."""

    model: str  # in the endpoint name: ID4
    model_tag: str  # model:id4
    vin9: str  # the VIN's first nine characters
    plant_tag: str  # plant:zwickau
    plant_code: str  # the VIN's eleventh character
    weight: int


@dataclass(frozen=True)
class _Region:
    code: str
    group: str
    description: str
    apn: str
    pool: str | None
    weight: int
    home: int  # index in IMSI_NETWORKS
    lines: tuple[_Line, ...]


def _line(model: str, vin9: str, plant: str, plant_code: str, weight: int) -> _Line:
    tag = model.lower().replace("idbuzz", "id-buzz").replace("etron", "e-tron")
    return _Line(model, f"model:{tag}", vin9, f"plant:{plant}", plant_code, weight)


REGIONS: tuple[_Region, ...] = (
    _Region(
        "EU", "vantiq-connect-eu",
        "Vantiq Connect, Europe: vehicles sold in the EU, EEA and UK; telematics and OTA updates",
        "iot.vantiq.eu", "10.20.0.0/14", 40, 0,
        (
            _line("ID3", "WVWZZZE1Z", "zwickau", "P", 20),
            _line("ID4", "WVWZZZE2Z", "zwickau", "P", 25),
            _line("ID7", "WVWZZZEDZ", "emden", "E", 15),
            _line("IDBUZZ", "WV1ZZZEBZ", "hannover", "H", 10),
            _line("ETRON", "WAUZZZGEZ", "brussels", "B", 15),
            _line("ENYAQ", "TMBZZZNYZ", "mlada-boleslav", "M", 15),
        ),
    ),
    _Region(
        "US", "vantiq-connect-us",
        "Vantiq Connect, North America: US and Canadian vehicles",
        "iot.vantiq.us", "10.24.0.0/14", 30, 1,
        (
            _line("ID4", "1V2ZZZE2Z", "chattanooga", "C", 70),
            _line("IDBUZZ", "WV1ZZZEBZ", "hannover", "H", 20),
            _line("ETRON", "WAUZZZGEZ", "brussels", "B", 10),
        ),
    ),
    _Region(
        "APAC", "vantiq-connect-apac",
        "Vantiq Connect, Asia-Pacific: China, Japan, Korea, Australia",
        "iot.vantiq.apac", "10.28.0.0/15", 15, 0,
        (
            _line("ID4", "LSVZZZE2Z", "anting", "A", 45),
            _line("ID3", "LSVZZZE1Z", "anting", "A", 25),
            _line("ID7", "WVWZZZEDZ", "emden", "E", 15),
            _line("ETRON", "WAUZZZGEZ", "brussels", "B", 15),
        ),
    ),
    _Region(
        "LATAM", "vantiq-connect-latam",
        "Vantiq Connect, Latin America: Mexico, Brazil, Chile; no static-IP pool",
        "iot.vantiq.latam", None, 10, 0,
        (
            _line("ID4", "WVWZZZE2Z", "zwickau", "P", 50),
            _line("IDBUZZ", "WV1ZZZEBZ", "hannover", "H", 25),
            _line("ETRON", "WAUZZZGEZ", "brussels", "B", 25),
        ),
    ),
    _Region(
        "TEST", "vantiq-test-bench",
        "Pre-series vehicles and test benches at Wolfsburg; test network IMSIs",
        "test.vantiq.internal", "10.99.0.0/16", 5, 2,
        (
            _line("ID4", "WVWZZZE2Z", "wolfsburg", "W", 40),
            _line("ID7", "WVWZZZEDZ", "wolfsburg", "W", 30),
            _line("IDBUZZ", "WV1ZZZEBZ", "wolfsburg", "W", 30),
        ),
    ),
)

#: The other operators of the demo: (name, role). The caller's OS user is the admin.
OPERATORS: tuple[tuple[str, Role], ...] = (
    ("alice", Role.OPERATOR),
    ("bob", Role.VIEWER),
    ("sam", Role.SUPPORT),
)

_STATES = tuple(STATE_WEIGHTS)
_S = {s: k for k, s in enumerate(_STATES)}
_ACTIVE, _IDLE, _DETACHED = _S[State.ACTIVE], _S[State.IDLE], _S[State.DETACHED]
_SUSPENDED, _PENDING, _PRE_ACTIVE = _S[State.SUSPENDED], _S[State.PENDING], _S[State.PRE_ACTIVE]
_HOLD, _TERMINATED = _S[State.HOLD], _S[State.TERMINATED]
_WITH_TRAFFIC = frozenset({_ACTIVE, _IDLE, _DETACHED, _SUSPENDED})
_BEFORE = tuple(_S[s] for s in BEFORE_TERMINATION_WEIGHTS)
_STATE_NAMES = [s.value for s in _STATES]

_U32 = next(t for t in "IL" if array(t).itemsize == 4)


@dataclass
class DemoSummary:
    """What build_demo made, and how long it took."""

    endpoints: int
    sims: int
    pool_sims: int
    groups: int
    by_state: dict[str, int]
    seconds: float

    def lines(self) -> list[str]:
        """A human summary, a line each."""
        out = [
            f"Vantiq Motors demo fleet: {self.endpoints:,} endpoints "
            f"in {self.groups} Endpoint Groups",
            f"{self.sims:,} SIMs, {self.pool_sims:,} of them Ready to Activate",
        ]
        width = max(len(s.label) for s in State)
        for s in State:
            out.append(f"  {s.label:<{width}}  {self.by_state.get(s.value, 0):>11,}")
        out.append(f"Built in {self.seconds:.1f} s")
        return out


# --- small helpers ------------------------------------------------------------------


def _os_user() -> str:
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def _naive_utc(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


def _epoch(when: dt.datetime) -> int:
    return int(when.replace(tzinfo=dt.UTC).timestamp())


def _u32(rng: random.Random, n: int) -> array[int]:
    """n random unsigned 32-bit integers, the same on every platform."""
    out = array(_U32, rng.randbytes(4 * n))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _pick(rng: random.Random, n: int, weights: Sequence[int]) -> list[int]:
    """n indices into ``weights``, drawn with those weights (to 1/65536)."""
    total = sum(weights)
    table: list[int] = []
    acc = 0
    for k, w in enumerate(weights):
        acc += w
        table.extend([k] * (round(65536 * acc / total) - len(table)))
    draws = array("H", rng.randbytes(2 * n))
    if sys.byteorder == "big":
        draws.byteswap()
    return list(map(table.__getitem__, draws))


def _hash(x: int, mult: int, salt: int) -> int:
    """The hash that ``_hash_sql`` computes in SQL."""
    return (x * mult + salt) % 4294967296


def _hash_sql(x: str, mult: int, salt: int) -> str:
    return f"(({x}) * {mult} + {salt}) % 4294967296"


def _is_esim(c: int, salt: int) -> bool:
    return (_hash(c, _HASH_A, salt) >> 8) % 100 < _ESIM_PERCENT


def _imsi_count(c: int, salt: int) -> int:
    h = _hash(c, _HASH_B, salt)
    if (h >> 8) % 100 >= _MULTI_IMSI_PERCENT:
        return 1
    return 2 + ((h >> 4) & 1)


def _eid(c: int) -> str:
    return make_eid(f"{EID_PREFIX}{c:012d}")


def _luhn_series(prefix: str, digits: int, first: int, count: int) -> list[str]:
    """``count`` numbers: prefix, the serials first, first+1, … in ``digits`` digits, and
    the Luhn check digit (ICCIDs, IMEIs)."""
    suffixes = _luhn_suffixes()
    out: list[str] = []
    serial = first
    end = first + count
    while serial < end:
        hi, lo = divmod(serial, 10_000)
        head = f"{prefix}{hi:0{digits - 4}d}"
        # The head's digit as if it ended the body: its last digit is doubled either way.
        block = suffixes[luhn_check_digit(head)]
        take = min(10_000 - lo, end - serial)
        out += [head + tail for tail in block[lo:lo + take]]
        serial += take
    return out


_SUFFIXES: list[list[str]] = []
_FOUR: list[str] = []


def _four_digits() -> list[str]:
    """'0000' to '9999'."""
    if not _FOUR:
        _FOUR.extend(f"{k:04d}" for k in range(10_000))
    return _FOUR


def _luhn_suffixes() -> list[list[str]]:
    """For each check digit r of a head: the 10,000 four-digit tails with the check digit
    of head + tail, which is (r + the tail's own check digit) mod 10."""
    if not _SUFFIXES:
        tails = _four_digits()
        own = [luhn_check_digit(t) for t in tails]
        _SUFFIXES.extend(
            [f"{t}{(r + o) % 10}" for t, o in zip(tails, own, strict=True)] for r in range(10)
        )
    return _SUFFIXES


def _ip(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


class _Pool:
    """Static IPs handed out in order inside a network, skipping .0 and .255."""

    def __init__(self, cidr: str) -> None:
        base, _, bits = cidr.partition("/")
        a, b, c, d = (int(p) for p in base.split("."))
        self.base = (a << 24) | (b << 16) | (c << 8) | d
        self.size = 1 << (32 - int(bits))
        self.next = 0

    def take(self) -> str | None:
        host = (self.next // 254) * 256 + self.next % 254 + 1
        if host >= self.size - 1:
            return None
        self.next += 1
        return _ip(self.base + host)


class _Clock:
    """Times as stored, 'YYYY-MM-DD HH:MM:SS', from seconds after ``base`` (a midnight),
    by table lookup. Offsets stay below 2**30, where CPython's integers are fastest."""

    def __init__(self, base: int, last: int) -> None:
        first = dt.date(1970, 1, 1) + dt.timedelta(days=base // DAY)
        self.days = [(first + dt.timedelta(days=k)).isoformat() for k in range(last // DAY + 2)]
        minutes = [f":{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
        self.times = [f" {h:02d}" + ms for h in range(24) for ms in minutes]

    def __call__(self, t: int) -> str:
        return self.days[t // DAY] + self.times[t % DAY]

    def many(self, stamps: Iterable[int]) -> list[str]:
        days, times = self.days, self.times
        return [days[t // DAY] + times[t % DAY] for t in stamps]

    def day(self, t: int) -> str:
        return self.days[t // DAY]


# --- the fleet as data --------------------------------------------------------------


@dataclass(frozen=True)
class _Combo:
    """Where a vehicle is sold, what it is and which extra tag it has."""

    region: int
    group_id: int
    name_prefix: str  # VM-EU-ID4-
    vin9: str
    plant_code: str
    tags: str  # sorted, one space apart
    home: int


def _combos() -> tuple[list[_Combo], list[int]]:
    combos: list[_Combo] = []
    weights: list[int] = []
    for r, region in enumerate(REGIONS):
        line_total = sum(line.weight for line in region.lines)
        for line in region.lines:
            for extra, extra_weight in EXTRA_TAGS:
                tags = sorted({line.model_tag, line.plant_tag} | ({extra} if extra else set()))
                combos.append(
                    _Combo(
                        r, r + 1, f"VM-{region.code}-{line.model}-", line.vin9, line.plant_code,
                        " ".join(tags), region.home,
                    )
                )
                weights.append(region.weight * line.weight * extra_weight * 1000 // line_total)
    return combos, weights


@dataclass
class _Job:
    id: int
    action: str
    actor: str
    at: int
    applied: list[int]
    skipped: list[tuple[int, str]]


_Event = tuple[int, str, str, str, str | None, str, str, int | None]
_RowColumns = tuple[list[int], list[str], list[str], list[str], list[str]]


class _Fleet:
    """Every fact of the demo, drawn once from the seed; rows are made from it on demand.

    Endpoint ``i`` (0-based) has id ``i + 1``. Times are seconds after ``self.base``, a
    midnight before the oldest record (epoch seconds only where stored as such).
    """

    def __init__(self, n: int, seed: int, now: dt.datetime, operator: str) -> None:
        self.n = n
        # Four years back, three days spare for the groups and operators, to midnight.
        self.base = (_epoch(now) - (4 * 365 + 3) * DAY) // DAY * DAY
        self.now = _epoch(now) - self.base
        self.operator = operator
        self.operators = [(operator, Role.ADMIN)] + [o for o in OPERATORS if o[0] != operator]
        rng = random.Random(seed)
        self.combos, weights = _combos()
        self.code = _pick(rng, n, weights)
        self.st = _pick(rng, n, list(STATE_WEIGHTS.values()))
        self._every_state()
        r1, self.r2, r3 = _u32(rng, n), _u32(rng, n), _u32(rng, n)
        flags_ip, flags_imei = rng.randbytes(n), rng.randbytes(n)
        flags_group, flags_immediate = rng.randbytes(n), rng.randbytes(n)
        self.esim_salt = rng.getrandbits(31)
        self.imsi_salt = rng.getrandbits(31)

        #: Endpoint indexes by state.
        self.bucket: list[list[int]] = [[] for _ in _STATES]
        add = [b.append for b in self.bucket]
        for i, s in enumerate(self.st):
            add[s](i)
        terminated = self.bucket[_TERMINATED]
        before = _pick(rng, len(terminated), list(BEFORE_TERMINATION_WEIGHTS.values()))
        #: The lifecycle state: the state, or for a terminated endpoint the one before.
        self.life = self.st[:]
        for i, b in zip(terminated, before, strict=True):
            self.life[i] = _BEFORE[b]

        # Created over four years, oldest first, the newest a month ago.
        self.start = self.now - 4 * 365 * DAY
        step = ((self.now - 30 * DAY) - self.start) // n
        self.created = [t + (x & 1023) for t, x in
                        zip(range(self.start, self.start + n * step, step), r1, strict=True)]
        self.clock = _Clock(self.base, self.now)

        # The SIMs: one per endpoint out of Hold, in endpoint order, then the pool.
        self.linked = n - len(self.bucket[_HOLD])
        self.pool = max(POOL_MIN, round(n * POOL_SHARE))
        iccids = _luhn_series(ICCID_PREFIX, 10, ICCID_FIRST, self.linked + self.pool)
        self.pool_iccids = iccids[self.linked:]
        take = iter(iccids).__next__
        self.iccid = ["" if s == _HOLD else take() for s in self.st]

        # Model-year blocks of at most 999,999 vehicles: (VIN year code, first index).
        blocks = max(4, -(-n // 999_999))
        year0 = now.year - blocks + 1
        self.block_first = [(k * n + blocks - 1) // blocks for k in range(blocks)] + [n]
        self.block_year = [VIN_YEARS[(year0 + k - 1980) % 30] for k in range(blocks)]

        # Groups: Pending has none, Hold only sometimes. Activate immediately: off for
        # Pre-Active, and for some of those not grouped yet.
        group_of = [c.group_id for c in self.combos]
        self.gid = [group_of[k] for k in self.code]
        self.ai = [1] * n
        for i in self.bucket[_PENDING] + self.bucket[_HOLD] + terminated:
            s = self.life[i]
            if s == _PENDING or (s == _HOLD and flags_group[i] >= HOLD_GROUPED_OF_256):
                self.gid[i] = 0
            if s == _PRE_ACTIVE or (
                s in (_HOLD, _PENDING) and flags_immediate[i] < NOT_IMMEDIATE_OF_256
            ):
                self.ai[i] = 0
        for i in self.bucket[_PRE_ACTIVE]:
            self.ai[i] = 0

        self.jobs = self._plan_jobs()
        self._network_times(r1, r3)
        self.imei = self._imei_locks(flags_imei)
        self._flags_ip = flags_ip
        self._row_columns: _RowColumns | None = None

    # -- drawing ------------------------------------------------------------------

    def _every_state(self) -> None:
        """Make sure each display state has an endpoint (only small fleets can miss one)."""
        counts = Counter(self.st)
        for k in range(len(_STATES)):
            if counts[k] or self.n < len(_STATES):
                continue
            for pos, s in enumerate(self.st):
                if counts[s] > 1:
                    counts[s] -= 1
                    counts[k] += 1
                    self.st[pos] = k
                    break

    def sampled(self, i: int) -> bool:
        """True when endpoint index ``i`` has a history in the audit trail."""
        return i < HISTORY_FIRST or i % HISTORY_EVERY == 0

    def sample(self) -> list[int]:
        """The endpoint indexes with a history, in order."""
        first = list(range(min(self.n, HISTORY_FIRST)))
        return first + list(range(-(-HISTORY_FIRST // HISTORY_EVERY) * HISTORY_EVERY,
                                  self.n, HISTORY_EVERY))

    def t_link(self, i: int) -> int:
        """When the SIM was linked: on the production line, minutes after creation."""
        return self.created[i] + 600 + (self.r2[i] & 2047)

    def t_group(self, i: int) -> int:
        """When the vehicle was commissioned (grouped): 1-10 days after the link."""
        x = self.r2[i]
        return self.created[i] + 600 + (x & 2047) + DAY + (x >> 11) % (9 * DAY)

    def _plan_jobs(self) -> list[_Job]:
        """A finished bulk suspend and a finished bulk terminate, over sampled endpoints."""
        suspend_at = self.now - 2 * DAY - 5 * 3600
        terminate_at = self.now - 20 * DAY + 3 * 3600
        suspended = [i for i in self.bucket[_SUSPENDED] if self.sampled(i)]
        pending = [i for i in self.bucket[_PENDING] if self.sampled(i)]
        suspend = _Job(1, "suspend", "alice", suspend_at, suspended[:114],
                       [(i, ACTIONS["suspend"].refusal(State.PENDING)) for i in pending[:6]])
        # Terminated by the job: sampled, and grouped well before it ran.
        candidates = [i for i in self.bucket[_TERMINATED]
                      if self.sampled(i) and self.t_group(i) + 3 * DAY < terminate_at]
        terminate = _Job(2, "terminate", self.operator, terminate_at, candidates[:40], [])
        jobs = [j for j in (suspend, terminate) if j.applied]
        self.job_of: dict[int, _Job] = {i: j for j in jobs for i in j.applied}
        return jobs

    def _network_times(self, r1: Sequence[int], r3: Sequence[int]) -> None:
        """Last activity, suspension and termination times, and when each row last changed."""
        now = self.now
        # Last activity: (latest, spread) by state; (0, 1) gives 0 = never seen.
        latest = [0] * len(_STATES)
        spread = [1] * len(_STATES)
        for k, ago, within in ((_ACTIVE, 0, 6 * 3600), (_IDLE, 0, 2 * DAY),
                               (_DETACHED, DAY, 13 * DAY), (_SUSPENDED, 3600, 13 * DAY)):
            latest[k], spread[k] = now - ago, within
        la = [latest[s] - y % spread[s] for s, y in zip(self.st, r3, strict=True)]
        self.suspended_at: dict[int, int] = {}
        self.terminated_at: dict[int, int] = {}
        for i in self.bucket[_TERMINATED]:
            job = self.job_of.get(i)
            if job is not None:
                end = job.at
            elif (r1[i] >> 12) % 5 == 0:  # a fifth: old enough to purge
                end = now - (RETENTION_DAYS + 1) * DAY - r3[i] % (300 * DAY)
            else:
                end = now - 3600 - r3[i] % ((RETENTION_DAYS - 2) * DAY)
            end = max(end, self.t_group(i) + 3 * DAY)
            self.terminated_at[i] = end
            if self.life[i] in _WITH_TRAFFIC:
                la[i] = end - 3600 - (r3[i] >> 4) % (2 * DAY)
            if self.life[i] == _SUSPENDED:
                self.suspended_at[i] = la[i] + 60 + (self.r2[i] >> 8) % 1800
        for i in self.bucket[_SUSPENDED]:
            job = self.job_of.get(i)
            if job is not None:
                la[i] = job.at - 600 - r3[i] % (10 * DAY)
                self.suspended_at[i] = job.at
            else:
                self.suspended_at[i] = la[i] + 60 + (self.r2[i] >> 8) % 1800
        self.la = la

    def _updated(self) -> list[int]:
        """When each row last changed: as t_group for the grouped, else as its state says."""
        updated = [c + 600 + (x & 2047) + DAY + (x >> 11) % (9 * DAY)
                   for c, x in zip(self.created, self.r2, strict=True)]
        for i in self.bucket[_PENDING]:
            updated[i] = self.t_link(i)
        for i in self.bucket[_HOLD]:
            if not self.gid[i]:
                updated[i] = self.created[i]
        for i, t in self.suspended_at.items():
            updated[i] = t
        for i, t in self.terminated_at.items():
            updated[i] = t
        return updated

    def static_ips(self) -> dict[int, str]:
        """Static IPs for about a tenth of the linked, grouped endpoints, in the group's pool."""
        pools = [_Pool(r.pool) if r.pool else None for r in REGIONS]
        spare = _Pool(SPARE_POOL)
        static_ip: dict[int, str] = {}
        for i in compress(range(self.n), map(STATIC_IP_OF_256.__gt__, self._flags_ip)):
            if self.gid[i] and self.iccid[i]:
                ip = (pools[self.combos[self.code[i]].region] or spare).take()
                if ip:
                    static_ip[i] = ip
        return static_ip

    def _imei_locks(self, flags: bytes) -> dict[int, str]:
        """IMEI locks for about a tenth of the endpoints with a SIM."""
        locked = [i for i in compress(range(self.n), map(IMEI_LOCK_OF_256.__gt__, flags))
                  if self.iccid[i]]
        imeis: list[str] = []
        for tac in IMEI_TACS:
            imeis += _luhn_series(tac, 6, 0, min(1_000_000, len(locked) - len(imeis)))
        return dict(zip(locked, imeis, strict=False))  # beyond 6 million: no more locks

    def _columns(self) -> _RowColumns:
        """What only the endpoint rows need: when each changed, and the sparse columns
        with '' for empty (state before termination, terminated at, static IP, IMEI lock)."""
        if self._row_columns is None:
            names = _STATE_NAMES
            before = [""] * self.n
            ended = [""] * self.n
            for i, t in self.terminated_at.items():
                before[i] = names[self.life[i]]
                ended[i] = self.clock(t)
            ips = [""] * self.n
            for i, ip in self.static_ips().items():
                ips[i] = ip
            imeis = [""] * self.n
            for i, imei in self.imei.items():
                imeis[i] = imei
            self._row_columns = (self._updated(), before, ended, ips, imeis)
        return self._row_columns

    # -- one endpoint ---------------------------------------------------------------

    def name(self, i: int) -> str:
        return f"{self.combos[self.code[i]].name_prefix}{i + 1:07d}"

    def group_name(self, i: int) -> str | None:
        return REGIONS[self.combos[self.code[i]].region].group if self.gid[i] else None

    # -- rows ---------------------------------------------------------------------

    def _names(self, a: int, b: int) -> tuple[list[str], list[str]]:
        """The names and references (VINs) of endpoints a..b-1."""
        code, combos = self.code[a:b], self.combos
        # Zero-padded numbers by table lookup: a third of the cost of formatting each.
        four = _four_digits()
        three = [f"{k:03d}" for k in range(b // 10_000 + 1)]
        two = [f"{k:02d}" for k in range(100)]  # a VIN serial is below 1,000,000
        prefix = [c.name_prefix for c in combos]
        names = [prefix[k] + three[i // 10_000] + four[i % 10_000]
                 for k, i in zip(code, range(a + 1, b + 1), strict=True)]
        refs: list[str] = []
        for block in range(len(self.block_first) - 1):
            lo, hi = max(a, self.block_first[block]), min(b, self.block_first[block + 1])
            if lo >= hi:
                continue
            year, first = self.block_year[block], self.block_first[block]
            head = [f"{c.vin9}{year}{c.plant_code}" for c in combos]
            refs += [head[k] + two[i // 10_000] + four[i % 10_000] for k, i in
                     zip(code[lo - a:hi - a], range(lo - first + 1, hi - first + 1), strict=True)]
        return names, refs

    def endpoint_rows(self, a: int, b: int, *, null: Any = "") -> Iterator[tuple[Any, ...]]:
        """Endpoints a..b-1 in the column order of ENDPOINT_COLUMNS.

        No group is 0 and the absent sparse values are ``null`` ('' for SQLite's
        NULLIF in ENDPOINT_SQL).
        """
        combos, clock = self.combos, self.clock
        updated, *sparse_columns = self._columns()
        names, refs = self._names(a, b)
        state_names = _STATE_NAMES
        sparse: list[Sequence[Any]] = [column[a:b] for column in sparse_columns]
        if null != "":
            sparse = [[v or null for v in column] for column in sparse]
        return zip(
            range(a + 1, b + 1), self.iccid[a:b], names, refs,
            [combos[k].tags for k in self.code[a:b]], self.gid[a:b],
            [state_names[s] for s in self.st[a:b]], self.ai[a:b],
            [t and t + self.base for t in self.la[a:b]],
            clock.many(self.created[a:b]), clock.many(updated[a:b]), *sparse, strict=True,
        )

    def staging_rows(self, a: int, b: int) -> Iterator[tuple[Any, ...]]:
        """(id, iccid, name, tags, created_at) of endpoints a..b-1: what the SIM, IMSI and
        tag rows are made from."""
        combos = self.combos
        names, _ = self._names(a, b)
        return zip(range(a + 1, b + 1), self.iccid[a:b], names,
                   [combos[k].tags for k in self.code[a:b]],
                   self.clock.many(self.created[a:b]), strict=True)

    def sim_count(self) -> int:
        return self.linked + self.pool

    def pool_rows(self) -> list[tuple[Any, ...]]:
        """The Ready to Activate SIMs: (id, iccid, eid or None, created)."""
        created = self.clock.day(self.now - 12 * DAY) + " 08:00:00"
        rows = []
        for k, iccid in enumerate(self.pool_iccids):
            c = self.n + 1 + k
            rows.append((self.linked + 1 + k, iccid,
                         _eid(c) if _is_esim(c, self.esim_salt) else None, created))
        return rows

    def sim_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every SIM: (id, iccid, eid or None, endpoint id or None, created)."""
        sim_id = 0
        clock = self.clock
        for i, iccid in enumerate(self.iccid):
            if iccid:
                sim_id += 1
                c = i + 1
                eid = _eid(c) if _is_esim(c, self.esim_salt) else None
                yield sim_id, iccid, eid, c, clock.day(self.created[i]) + " 00:00:00"
        for sim, iccid, eid, created in self.pool_rows():
            yield sim, iccid, eid, None, created

    def imsi_rows(self) -> Iterator[tuple[int, int, str]]:
        """Every IMSI: (sim id, position, imsi), SIM by SIM, the home network's first."""
        sims: list[tuple[int, int, int]] = []  # (sim id, hash input, home network)
        for i, iccid in enumerate(self.iccid):
            if iccid:
                sims.append((len(sims) + 1, i + 1, self.combos[self.code[i]].home))
        sims += [(self.linked + 1 + k, self.n + 1 + k, 0) for k in range(self.pool)]
        for sim, c, home in sims:
            for position in range(_imsi_count(c, self.imsi_salt)):
                fmt, first = IMSI_NETWORKS[(home + position) % 3]
                yield sim, position, fmt % (first + sim)

    def tag_rows(self) -> Iterator[tuple[str, int]]:
        """Every (tag, endpoint id), endpoint by endpoint."""
        for i, k in enumerate(self.code):
            for tag in self.combos[k].tags.split():
                yield tag, i + 1

    # -- history and jobs -----------------------------------------------------------

    def history(self, i: int) -> list[_Event]:
        """The audit events of a sampled endpoint, oldest first.

        Each: (at, actor, action, iccid, from_state, to_state, detail, job id).
        """
        v = _STATE_NAMES
        life, iccid, x = self.life[i], self.iccid[i], self.r2[i]
        creator = self.operator if x & 1 else "alice"
        group = self.group_name(i)
        events: list[_Event] = [
            (self.created[i], creator, "created", "", None, v[_HOLD],
             f'{{"name": "{self.name(i)}"}}', None)
        ]
        if life == _HOLD:
            if group:
                events.append((self.t_group(i), "alice", "assign_group", "", v[_HOLD], v[_HOLD],
                               f'{{"group": "{group}"}}', None))
            return events
        events.append((self.t_link(i), creator, "link", iccid, v[_HOLD], v[_PENDING],
                       f'{{"sim": "{iccid}"}}', None))
        state = _PENDING
        if life != _PENDING:
            state = _PRE_ACTIVE if life == _PRE_ACTIVE else _ACTIVE
            events.append((self.t_group(i), "alice", "assign_group", iccid, v[_PENDING], v[state],
                           f'{{"group": "{group}"}}', None))
        if life in _WITH_TRAFFIC:
            la, gap = self.la[i], 60 + x % 3600
            imei = self.imei.get(i)
            attach = f'{{"imei": "{imei}"}}' if imei else ""
            if life == _IDLE:
                path = [(la, "attach", _IDLE, attach)]
            elif life == _DETACHED:
                path = [(la - gap, "attach", _IDLE, attach), (la, "detach", _DETACHED, "")]
            else:
                path = [(la - gap, "attach", _IDLE, attach), (la, "session_start", _ACTIVE, "")]
            for at, action, to, detail in path:
                events.append((at, "network", action, iccid, v[state], v[to], detail, None))
                state = to
        ended = self.terminated_at.get(i)
        job = self.job_of.get(i)
        if life == _SUSPENDED:
            by = job if job is not None and ended is None else None
            events.append((self.suspended_at[i], by.actor if by else "alice", "suspend", iccid,
                           v[state], v[_SUSPENDED], "", by.id if by else None))
            state = _SUSPENDED
        if ended is not None:
            actor = job.actor if job else (self.operator if x & 2 else "alice")
            events.append((ended, actor, "terminate", iccid, v[state], v[_TERMINATED], "",
                           job.id if job else None))
        return events

    def audit_rows(self) -> list[tuple[Any, ...]]:
        """Every audit event, in time order: the operators granted, then the histories.

        (at, actor, action, endpoint id, iccid, from, to, detail, job id)
        """
        events: list[tuple[int, int, int, tuple[Any, ...]]] = []
        granted = self.start - DAY
        for k, (user, role) in enumerate(self.operators):
            detail = json.dumps({"user": user, "role": role.value})
            events.append((granted + k, 0, k, (self.operator, "operator_added", None, "",
                                               None, None, detail, None)))
        for i in self.sample():
            for seq, (at, actor, action, iccid, a, b, detail, job) in enumerate(self.history(i)):
                events.append((at, i + 1, seq, (actor, action, i + 1, iccid, a, b, detail, job)))
        events.sort(key=lambda e: e[:3])
        clock = self.clock
        return [(clock(at),) + row for at, _, _, row in events]

    def job_rows(self) -> list[tuple[Any, ...]]:
        """(id, action, actor, params, status, total, applied, skipped, failed, last id,
        created, heartbeat, finished, message)."""
        rows = []
        for job in self.jobs:
            total = len(job.applied) + len(job.skipped)
            params = {"targets": {"ids": total}, "group": None}
            last = max(job.applied + [i for i, _ in job.skipped]) + 1
            done = self.clock(job.at + 2)
            rows.append((job.id, job.action, job.actor, json.dumps(params), "done", total,
                         len(job.applied), len(job.skipped), 0, last,
                         self.clock(job.at - 3), done, done, ""))
        return rows

    def job_item_rows(self) -> list[tuple[int, int, str, str]]:
        """(job id, endpoint id, iccid, outcome)."""
        rows = []
        for job in self.jobs:
            items = [(i, "applied") for i in job.applied] + job.skipped
            for i, outcome in sorted(items):
                rows.append((job.id, i + 1, self.iccid[i], outcome))
        return rows

    def group_rows(self) -> list[tuple[Any, ...]]:
        created = self.clock(self.start - 2 * DAY)
        return [(k + 1, r.group, r.description, r.apn, r.pool, created)
                for k, r in enumerate(REGIONS)]

    def operator_rows(self) -> list[tuple[Any, ...]]:
        created = self.clock(self.start - DAY)
        return [(user, role.value, created, self.operator) for user, role in self.operators]

    def by_state(self) -> dict[str, int]:
        return {s.value: len(self.bucket[k]) for k, s in enumerate(_STATES)}


# --- the build ----------------------------------------------------------------------


def build_demo(
    endpoints: int = 5000,
    *,
    seed: int = 7,
    now: dt.datetime | None = None,
    operator: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Fill the bound (new, empty) database with the demo fleet; returns what was made."""
    started = time.perf_counter()
    if endpoints < 1:
        raise InputError(f"a demo fleet needs at least 1 endpoint, not {endpoints}")
    say = progress or (lambda _message: None)
    when = _naive_utc(now or dt.datetime.now(dt.UTC))
    user = operator or _os_user()
    models.create_schema(indexes=False)
    filled = [m._meta.table_name for m in (models.Endpoint, models.Sim, models.EndpointGroup,
                                           models.Operator, models.AuditEvent, models.Job)
              if m.select().exists()]
    if filled:
        raise InputError(f"the database is not empty ({', '.join(filled)} hold rows); "
                         "the demo is built into a new database")
    if is_sqlite():
        by_state = _SqliteBuild(endpoints, seed, when, user, say).run()
    else:
        say(f"drawing a fleet of {endpoints:,} vehicles")
        fleet = _Fleet(endpoints, seed, when, user)
        _load_portable(fleet, say)
        by_state = fleet.by_state()
    say("done")
    sims = endpoints - by_state[State.HOLD.value]
    pool = max(POOL_MIN, round(endpoints * POOL_SHARE))
    return DemoSummary(
        endpoints=endpoints,
        sims=sims + pool,
        pool_sims=pool,
        groups=len(REGIONS),
        by_state=by_state,
        seconds=time.perf_counter() - started,
    )


# --- SQLite -------------------------------------------------------------------------

ENDPOINT_COLUMNS = (
    "id", "iccid", "name", "reference", "tags", "group_id", "state", "activate_immediately",
    "last_activity", "created_at", "updated_at", "state_before_termination", "terminated_at",
    "static_ip", "imei_lock",
)
ENDPOINT_SQL = (
    f"INSERT INTO endpoint ({', '.join(ENDPOINT_COLUMNS)}, version) "
    "VALUES (?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, "
    "NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), 1)"
)
_AUDIT_SQL = (
    "INSERT INTO audit_event (at, actor, action, endpoint_id, iccid, from_state, to_state, "
    "detail, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_JOB_SQL = (
    "INSERT INTO job (id, action, actor, params, status, total, applied, skipped, failed, "
    "last_id, created_at, heartbeat, finished_at, message) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_STAGING = "demo_scratch"
_FTS_SHADOWS = ("endpoint_text_data", "endpoint_text_idx", "endpoint_text_docsize")
#: The trigram index buffers this much before it writes: one pass, not many merges.
_FTS_HASHSIZE = 128 * 1024 * 1024
_FTS_HASHSIZE_DEFAULT = 1024 * 1024


def _sim_sql(fleet: _Fleet, src: str) -> str:
    """The linked SIMs, made from the endpoints in SQL as ``_Fleet.sim_rows`` makes them."""
    # The EID check digits: 98 - (body * 100 mod 97), body = prefix * 10**12 + c.
    head = int(EID_PREFIX) * 10**12 % 97
    esim = f"({_hash_sql('id', _HASH_A, fleet.esim_salt)} >> 8) % 100 < {_ESIM_PERCENT}"
    return (
        "INSERT INTO main.sim (iccid, eid, endpoint_id, created_at) "
        f"SELECT iccid, CASE WHEN {esim} THEN printf('{EID_PREFIX}%012d%02d', id, "
        f"98 - ((({head} + id) % 97) * 100) % 97) END, "
        f"id, substr(created_at, 1, 10) || ' 00:00:00' "
        f"FROM {src} WHERE iccid <> '' ORDER BY id"
    )


def _imsi_sql(fleet: _Fleet, src: str) -> str:
    """Every IMSI, made from the SIMs in SQL as ``_Fleet.imsi_rows`` makes them."""
    h = _hash_sql(f"COALESCE(s.endpoint_id, s.id - {fleet.linked} + {fleet.n})",
                  _HASH_B, fleet.imsi_salt)
    count = (f"CASE WHEN ({h} >> 8) % 100 < {_MULTI_IMSI_PERCENT} "
             f"THEN 2 + (({h} >> 4) & 1) ELSE 1 END")
    homes = " ".join(f"WHEN '{r.code[:2]}' THEN {r.home}" for r in REGIONS if r.home)
    network = " ".join(f"WHEN {k} THEN printf('{fmt}', {first} + s.id)"
                       for k, (fmt, first) in enumerate(IMSI_NETWORKS))
    return (
        "INSERT INTO main.imsi (sim_id, position, imsi) "
        f"SELECT s.id, p.position, CASE (CASE substr(e.name, 4, 2) {homes} ELSE 0 END "
        f"+ p.position) % 3 {network} END "
        f"FROM main.sim s LEFT JOIN {src} e ON e.id = s.endpoint_id "
        f"CROSS JOIN temp.demo_positions p WHERE p.position < {count} "
        "ORDER BY s.id, p.position"
    )


def _tags_sql(src: str) -> str:
    return (
        "INSERT INTO main.endpoint_tag (tag, endpoint_id) SELECT m.tag, e.id "
        f"FROM {src} e CROSS JOIN temp.demo_tag_map m ON m.tags = e.tags ORDER BY e.id, m.tag"
    )


class _SqliteBuild:
    """The SQLite build, on the bound connection; see the module's docstring."""

    def __init__(self, n: int, seed: int, now: dt.datetime, operator: str,
                 say: Callable[[str], None]) -> None:
        self.args = (n, seed, now, operator)
        self.say = say
        self.conn: sqlite3.Connection = database.connection()
        self.path = ""
        for _, name, file in self.conn.execute("PRAGMA database_list"):
            if name == "main":
                self.path = str(file or "")

    def _pragma(self, name: str, value: object | None = None) -> Any:
        if value is None:
            return self.conn.execute(f"PRAGMA {name}").fetchone()[0]
        return self.conn.execute(f"PRAGMA {name}={value}").fetchone()

    def run(self) -> dict[str, int]:
        """Build; returns the endpoints per state."""
        saved = {k: self._pragma(k) for k in ("journal_mode", "synchronous", "foreign_keys")}
        try:
            self._pragma("foreign_keys", 0)
            self._pragma("synchronous", 0)
            self._pragma("journal_mode", "memory")
            if self.path and self.args[0] >= PARALLEL_FROM and sys.executable and _core_free():
                with tempfile.TemporaryDirectory(
                    prefix=".simdeck-demo-", dir=os.path.dirname(os.path.abspath(self.path))
                ) as scratch:
                    return self._parallel(scratch)
            return self._serial()
        finally:
            self._pragma("journal_mode", saved["journal_mode"])
            self._pragma("synchronous", saved["synchronous"])
            self._pragma("foreign_keys", saved["foreign_keys"])

    def _serial(self) -> dict[str, int]:
        conn, say = self.conn, self.say
        say(f"drawing a fleet of {self.args[0]:,} vehicles")
        fleet = _Fleet(*self.args)
        with database.atomic():
            _insert_endpoints(conn, fleet, say)
            self._load_rest(fleet, "main.endpoint")
        say("indexes")
        with database.atomic():
            models.create_indexes()
        say("search index")
        with database.atomic():
            _fts_rebuild(conn, "main")
        self._analyze()
        return fleet.by_state()

    def _parallel(self, scratch: str) -> dict[str, int]:
        conn, say = self.conn, self.say
        endpoint_file = os.path.join(scratch, "endpoint.db")
        ddl = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'endpoint' AND sql IS NOT NULL "
            "ORDER BY type DESC")]
        try:
            worker = _Worker(endpoint_file, ddl, *self.args)
        except OSError:  # no interpreter to start: one process, slower
            return self._serial()
        try:
            say(f"drawing a fleet of {self.args[0]:,} vehicles")
            fleet = _Fleet(*self.args)
            conn.execute(f"ATTACH DATABASE ? AS {_STAGING}", (os.path.join(scratch, "s.db"),))
            try:
                conn.execute(f"PRAGMA {_STAGING}.journal_mode=OFF")
                with database.atomic():
                    conn.execute(f"CREATE TABLE {_STAGING}.endpoint (id INTEGER PRIMARY KEY, "
                                 "iccid TEXT, name TEXT, tags TEXT, created_at TEXT)")
                    for a in range(0, fleet.n, BATCH):
                        b = min(fleet.n, a + BATCH)
                        conn.executemany(f"INSERT INTO {_STAGING}.endpoint VALUES (?, ?, ?, ?, ?)",
                                         fleet.staging_rows(a, b))
                    self._load_rest(fleet, f"{_STAGING}.endpoint")
            finally:
                conn.execute(f"DETACH DATABASE {_STAGING}")
            say("waiting for the endpoint table and the search index")
            worker.wait()
        finally:
            worker.stop()
        say("copying the endpoint table and the search index")
        conn.execute("ATTACH DATABASE ? AS demo_endpoints", (endpoint_file,))
        try:
            with database.atomic():
                # The target gets the same indexes first, so that the copy fills them; the
                # search table's triggers only after it (a table with triggers is copied
                # row by row, firing them).
                for sql in models.INDEXES:
                    if " ON endpoint " in sql:
                        conn.execute(sql)
                conn.execute("INSERT INTO main.endpoint SELECT * FROM demo_endpoints.endpoint")
                conn.execute(models.SQLITE_FTS[0])
                for table in _FTS_SHADOWS:
                    conn.execute(f"DELETE FROM main.{table}")
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM demo_endpoints.{table}")
                models.create_indexes()
        finally:
            conn.execute("DETACH DATABASE demo_endpoints")
        self._analyze()
        return fleet.by_state()

    def _load_rest(self, fleet: _Fleet, src: str) -> None:
        """Everything but the endpoints, inside the caller's transaction."""
        conn, say = self.conn, self.say
        conn.executemany(
            "INSERT INTO endpoint_group (id, name, description, apn, ip_pool, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", fleet.group_rows())
        conn.executemany(
            "INSERT INTO operator (username, role, created_at, created_by) VALUES (?, ?, ?, ?)",
            fleet.operator_rows())
        # The secondary indexes of the tables loaded here cost less kept as rows arrive
        # in their order than sorted afterwards.
        for sql in models.INDEXES:
            if " ON endpoint " not in sql:
                conn.execute(sql)
        say("SIMs")
        conn.execute(_sim_sql(fleet, src))
        conn.executemany("INSERT INTO sim (id, iccid, eid, endpoint_id, created_at) "
                         "VALUES (?, ?, ?, NULL, ?)", fleet.pool_rows())
        say("IMSIs")
        conn.execute("CREATE TEMP TABLE demo_positions (position INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO temp.demo_positions VALUES (0), (1), (2)")
        conn.execute(_imsi_sql(fleet, src))
        say("tags")
        conn.execute("CREATE TEMP TABLE demo_tag_map (tags TEXT, tag TEXT)")
        texts = sorted({c.tags for c in fleet.combos})
        conn.executemany("INSERT INTO temp.demo_tag_map VALUES (?, ?)",
                         [(text, tag) for text in texts for tag in text.split()])
        conn.execute("CREATE INDEX temp.demo_tag_map_tags ON demo_tag_map (tags, tag)")
        conn.execute(_tags_sql(src))
        conn.execute("DROP TABLE temp.demo_positions")
        conn.execute("DROP TABLE temp.demo_tag_map")
        say("audit trail and jobs")
        conn.executemany(_AUDIT_SQL, fleet.audit_rows())
        conn.executemany(_JOB_SQL, fleet.job_rows())
        conn.executemany(
            "INSERT INTO job_item (job_id, endpoint_id, iccid, outcome) VALUES (?, ?, ?, ?)",
            fleet.job_item_rows())

    def _analyze(self) -> None:
        self.say("statistics")
        self._pragma("analysis_limit", 1000)
        self.conn.execute("ANALYZE")
        self._pragma("analysis_limit", 0)


def _core_free() -> bool:
    """True when a second core looks at least half free for the worker (the split costs
    about a fifth more work in all: a loss when every core is busy already)."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0] >= 0.5
    except (OSError, AttributeError):  # no load average on this platform
        return False


def _insert_endpoints(conn: sqlite3.Connection, fleet: _Fleet,
                      say: Callable[[str], None]) -> None:
    for a in range(0, fleet.n, BATCH):
        b = min(fleet.n, a + BATCH)
        conn.executemany(ENDPOINT_SQL, fleet.endpoint_rows(a, b))
        if b == fleet.n or b % (5 * BATCH) == 0:
            say(f"endpoints {b:,}/{fleet.n:,}")


def _fts_rebuild(conn: sqlite3.Connection, schema: str) -> None:
    table = f"{schema}.endpoint_text"
    conn.execute(f"INSERT INTO {table}(endpoint_text, rank) VALUES ('hashsize', ?)",
                 (_FTS_HASHSIZE,))
    conn.execute(f"INSERT INTO {table}(endpoint_text) VALUES ('rebuild')")
    conn.execute(f"INSERT INTO {table}(endpoint_text, rank) VALUES ('hashsize', ?)",
                 (_FTS_HASHSIZE_DEFAULT,))


class _Worker:
    """The endpoint table, its indexes and the search index, built by a second process.

    A plain ``python -c`` child, not multiprocessing: it imports nothing of the caller's
    ``__main__``. It draws the same fleet from the same seed.
    """

    def __init__(self, path: str, ddl: list[str], n: int, seed: int, now: dt.datetime,
                 operator: str) -> None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        args = json.dumps({"path": path, "ddl": ddl, "n": n, "seed": seed,
                           "now": now.isoformat(), "operator": operator})
        self.log = path + ".log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from core.demo import _worker_main; "
                 "_worker_main(sys.argv[1])", args],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )

    def wait(self) -> None:
        """Wait for the worker; raise with its last words if it failed."""
        if self.process.wait():
            with open(self.log, "rb") as log:
                lines = log.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError("the demo's endpoint worker failed: "
                               + (lines[-1] if lines else f"exit {self.process.returncode}"))

    def stop(self) -> None:
        """End the worker if it still runs (this build failed before waiting for it)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _worker_main(arguments: str) -> None:
    """In the worker process: the endpoint table, its indexes and the search index's
    shadow tables, in a file of its own."""
    args = json.loads(arguments)
    fleet = _Fleet(args["n"], args["seed"], dt.datetime.fromisoformat(args["now"]),
                   args["operator"])
    conn = sqlite3.connect(args["path"], isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        for sql in args["ddl"]:
            conn.execute(sql)
        _insert_endpoints(conn, fleet, lambda _message: None)
        for sql in models.INDEXES:
            if " ON endpoint " in sql:
                conn.execute(sql)
        conn.execute(models.SQLITE_FTS[0])
        _fts_rebuild(conn, "main")
        conn.execute("COMMIT")
    finally:
        conn.close()


# --- PostgreSQL (and any other database): portable, slower -------------------------

ENDPOINT_FIELDS = [getattr(models.Endpoint, "group" if c == "group_id" else c)
                   for c in ENDPOINT_COLUMNS]


def _batches(rows: Iterable[tuple[Any, ...]], size: int = PG_BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model: type[models.BaseModel], fields: Sequence[Any],
            rows: Iterable[tuple[Any, ...]]) -> None:
    for batch in _batches(rows):
        model.insert_many(batch, fields=list(fields)).execute()


def _load_portable(fleet: _Fleet, say: Callable[[str], None]) -> None:
    """Peewee inserts in batches: the same rows as the SQLite build."""
    m = models
    with database.atomic():
        _insert(m.EndpointGroup, [m.EndpointGroup.id, m.EndpointGroup.name,
                                  m.EndpointGroup.description, m.EndpointGroup.apn,
                                  m.EndpointGroup.ip_pool, m.EndpointGroup.created_at],
                fleet.group_rows())
        _insert(m.Operator, [m.Operator.username, m.Operator.role, m.Operator.created_at,
                             m.Operator.created_by], fleet.operator_rows())
        for a in range(0, fleet.n, BATCH):
            b = min(fleet.n, a + BATCH)
            rows = (r[:5] + (r[5] or None,) + r[6:] for r in fleet.endpoint_rows(a, b, null=None))
            _insert(m.Endpoint, ENDPOINT_FIELDS, rows)
            say(f"endpoints {b:,}/{fleet.n:,}")
        say("SIMs, IMSIs, tags and the audit trail")
        _insert(m.Sim, [m.Sim.id, m.Sim.iccid, m.Sim.eid, m.Sim.endpoint, m.Sim.created_at],
                fleet.sim_rows())
        _insert(m.Imsi, [m.Imsi.sim, m.Imsi.position, m.Imsi.imsi], fleet.imsi_rows())
        _insert(m.EndpointTag, [m.EndpointTag.tag, m.EndpointTag.endpoint], fleet.tag_rows())
        ae = m.AuditEvent
        _insert(ae, [ae.at, ae.actor, ae.action, ae.endpoint_id, ae.iccid, ae.from_state,
                     ae.to_state, ae.detail, ae.job], fleet.audit_rows())
        j = m.Job
        _insert(j, [j.id, j.action, j.actor, j.params, j.status, j.total, j.applied, j.skipped,
                    j.failed, j.last_id, j.created_at, j.heartbeat, j.finished_at, j.message],
                fleet.job_rows())
        _insert(m.JobItem, [m.JobItem.job, m.JobItem.endpoint_id, m.JobItem.iccid,
                            m.JobItem.outcome], fleet.job_item_rows())
        for table in ("endpoint_group", "endpoint", "sim", "job"):
            database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
    say("indexes")
    with database.atomic():
        m.create_indexes()
    say("statistics")
    with contextlib.suppress(pw.DatabaseError):
        database.execute_sql("ANALYZE")


__all__ = ["DemoSummary", "build_demo"]
