"""The demo fleet as data: every fact drawn once from a seed, rows made from it on demand.

Decisions:
- Deterministic: everything random comes from ``random.Random(seed)`` (drawn as bytes,
  so a million draws cost milliseconds) and from ``now``; the same seed and ``now``
  give the same rows. Identifiers that must be unique come from counters, never from
  chance: ICCIDs, EIDs, IMSIs, names, VINs, static IPs, IMEIs.
- A SIM's own facts (eSIM or plastic, how many IMSIs) come from a hash of its number
  with salts drawn from the seed, so the database can derive the ``sim``, ``imsi`` and
  ``endpoint_tag`` tables from the endpoints with ``INSERT … SELECT``;
  ``_Fleet.sim_rows``/``imsi_rows``/``tag_rows`` make the same rows in Python (tests
  check that the two agree).
- Audit history for a sample only (all of the first 2,000 endpoints, then every
  50th): created, SIM linked, group assigned, network attach/detach, suspended or
  terminated, as its state needs. The latest state-changing event of a sampled
  endpoint ends in its state. Events are inserted in time order, so ids follow time.
- A terminated endpoint was terminated from a state that had a SIM (never from Hold),
  so every endpoint out of Hold has a SIM. About a fifth were terminated 90 days ago
  or more, so purge has work.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

from simdeck.core.identifiers import luhn_check_digit, make_eid
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS, Role, State

DAY = 86_400

#: Endpoints with a full history in the audit trail: all of the first, then every 50th.
HISTORY_FIRST = 2000
HISTORY_EVERY = 50

#: Ready to Activate SIMs in the pool, as a share of the fleet (at least POOL_MIN).
POOL_SHARE = 0.03
POOL_MIN = 50

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


# --- small helpers ------------------------------------------------------------------


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


#: The endpoint table's columns in the order ``_Fleet.endpoint_rows`` gives them.
ENDPOINT_COLUMNS = (
    "id", "iccid", "name", "reference", "tags", "group_id", "state", "activate_immediately",
    "last_activity", "created_at", "updated_at", "state_before_termination", "terminated_at",
    "static_ip", "imei_lock",
)


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

    def endpoint_rows(self, a: int, b: int, *, null: Any = "",
                      no_group: Any = 0) -> Iterator[tuple[Any, ...]]:
        """Endpoints a..b-1 in the column order of ENDPOINT_COLUMNS.

        No group is ``no_group`` and the absent sparse values are ``null`` (0 and '' for
        SQLite's NULLIF in ENDPOINT_SQL).
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
            [combos[k].tags for k in self.code[a:b]],
            self.gid[a:b] if no_group == 0 else [g or no_group for g in self.gid[a:b]],
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
