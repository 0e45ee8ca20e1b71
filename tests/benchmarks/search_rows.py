"""Search at a million endpoints: a random search set drawn from the fleet's own words.

``python -m tests.benchmarks --db /tmp/b.db --reuse --only-search`` (add ``--pg URL`` for
PostgreSQL). The set is generated with a seed from the words of endpoints picked at
random: prefixes and fragments of names, references, ICCIDs, IMSIs, EIDs and tags, at
random lengths, with ``field:`` tokens, mixes of two or three tokens, and negations. Each
search is timed three ways in the same run, one after another:

- simdeck: ``queries.page`` as the console calls it (the planner chooses);
- the naive ``LIKE`` scan: every condition tested on each row while walking the sort
  order's index (``plan="dense"`` with no budget): instant when matches are dense, a
  scan of the whole table when they are rare;
- the plain query (``plan="plain"``): every condition as one WHERE clause, the database
  choosing (what simdeck did before the planner).

Counts per state: what the console shows first (``counts_by_state_estimate``: exact when
cheap, else estimated from a sample and marked ≈) and the exact counts that replace it.
"""

from __future__ import annotations

import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from simdeck.core import db
from simdeck.core.lifecycle import STATES
from simdeck.core.models import Endpoint, EndpointTag, Imsi, Sim
from simdeck.core.queries import Filter, counts_by_state, counts_by_state_estimate, page

from .core_rows import Figure, p95

#: Searches in the set, and the seed that draws them.
SEARCHES = 60
SEED = 12


def fleet_words(rng: random.Random, picks: int = 200) -> dict[str, list[str]]:
    """The words of ``picks`` endpoints drawn at random from the bound store, by kind."""
    top = int(Endpoint.select(Endpoint.id).order_by(Endpoint.id.desc()).limit(1).scalar() or 0)
    ids = sorted({rng.randint(1, max(1, top)) for _ in range(picks)})
    rows = list(Endpoint.select(Endpoint.name, Endpoint.reference, Endpoint.iccid)
                .where(Endpoint.id.in_(ids)).tuples())
    sims = [s for (s,) in Sim.select(Sim.id).where(Sim.endpoint.in_(ids)).tuples()]
    return {
        "name": [n for n, _, _ in rows if n],
        "ref": [r for _, r, _ in rows if r],
        "iccid": [i for _, _, i in rows if i],
        # In a stated order: the set must not change with the indexes the database has.
        "imsi": [i for (i,) in Imsi.select(Imsi.imsi).where(Imsi.sim.in_(sims))
                 .order_by(Imsi.sim, Imsi.position).tuples()],
        "eid": [e for (e,) in Sim.select(Sim.eid).where(Sim.id.in_(sims)
                                                        & Sim.eid.is_null(False)).tuples()],
        "tag": sorted({t for (t,) in EndpointTag.select(EndpointTag.tag)
                       .where(EndpointTag.endpoint.in_(ids)).tuples()}),
    }


def fragment(rng: random.Random, word: str, *, prefix: bool = False) -> str:
    """A piece of ``word``: its start (``prefix``) or any part, 1 to 12 characters."""
    size = rng.randint(1, min(12, len(word)))
    start = 0 if prefix else rng.randint(0, len(word) - size)
    text = word[start:start + size]
    return text.swapcase() if rng.random() < 0.2 else text


def random_search(rng: random.Random, words: dict[str, list[str]]) -> str:
    """One to three tokens from the fleet's own words (or noise), some negated."""
    tokens = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        kinds = [k for k in ("name", "ref", "iccid", "imsi", "eid", "tag") if words.get(k)]
        kind = rng.choice([*kinds, "state", "noise"])
        if kind == "noise":
            token = "".join(rng.choice(string.ascii_lowercase + "-%_")
                            for _ in range(rng.randint(1, 8)))
        elif kind == "state":
            token = "state:" + rng.choice(STATES).value
        elif kind == "tag":
            token = "tag:" + rng.choice(words["tag"])
        elif kind in ("imsi", "eid"):
            token = f"{kind}:" + fragment(rng, rng.choice(words[kind]), prefix=True)
        elif kind == "iccid":
            token = fragment(rng, rng.choice(words["iccid"]), prefix=True)
        else:
            text = fragment(rng, rng.choice(words[kind]))
            field = rng.choice(("", "", f"{kind}:"))
            token = field + (f'"{text}"' if " " in text else text)
        if rng.random() < 0.15:
            token = "-" + token
        tokens.append(token)
    return " ".join(tokens)


def search_set(n: int = SEARCHES, seed: int = SEED) -> list[str]:
    """``n`` searches drawn from the bound store's fleet with ``seed``."""
    rng = random.Random(seed)
    words = fleet_words(rng)
    return [random_search(rng, words) for _ in range(n)]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


#: The processor time of each of simdeck's timed runs (ms), beside the wall time: on a
#: machine whose cores are shared, it says what the search itself cost.
CPU: list[float] = []


def _ms(fn: Callable[[], object]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - start) * 1000


@dataclass
class Timings:
    """One measure over the set: each search's milliseconds, and the worst search."""

    samples: list[float]
    worst_search: str
    #: The processor time of each search's timed run, when measured.
    cpu: list[float] | None = None

    @property
    def line(self) -> str:
        s = self.samples
        out = (f"p50 {statistics.median(s):,.1f} ms, p95 {p95(s):,.1f} ms, "
               f"worst {max(s):,.1f} ms ({self.worst_search!r})")
        if self.cpu:
            c = self.cpu
            out += (f" [processor time p50 {statistics.median(c):,.1f} ms, "
                    f"p95 {p95(c):,.1f} ms, worst {max(c):,.1f} ms]")
        return out


def _timings(searches: list[str], samples: list[float]) -> Timings:
    worst = searches[max(range(len(samples)), key=samples.__getitem__)]
    return Timings(samples, worst)


def _side_by_side(searches: list[str], ways: list[Callable[[Filter], object]]
                  ) -> list[Timings]:
    """Each search timed each way, one after the other: the first way (simdeck's) after a
    warming read and as the best of two, the naive ways once (they may take seconds)."""
    samples: list[list[float]] = [[] for _ in ways]
    cpu: list[float] = []
    for text in searches:
        f = Filter(search=text)
        ways[0](f)
        for k, way in enumerate(ways):
            runs = 2 if k == 0 else 1
            CPU.clear()
            timed = [_ms(lambda w=way, f=f: w(f)) for _ in range(runs)]
            samples[k].append(min(timed))
            if k == 0:
                cpu.append(CPU[timed.index(min(timed))])
    out = [_timings(searches, s) for s in samples]
    out[0].cpu = cpu
    return out


def search_rows(url: str, *, label: str = "SQLite", n: int = SEARCHES, seed: int = SEED,
                sorts: tuple[str, ...] = ("iccid", "name"), limit: int = 50
                ) -> list[Figure]:
    """The random search set on the store at ``url``: first page and counts, each beside
    the naive ways, p50 / p95 / worst."""
    db.open_database(url)
    searches = search_set(n, seed)
    out: list[Figure] = []
    for sort in sorts:
        ours, naive, plain = _side_by_side(searches, [
            lambda f, s=sort: page(f, s, limit=limit),
            lambda f, s=sort: page(f, s, limit=limit, plan="dense"),
            lambda f, s=sort: page(f, s, limit=limit, plan="plain"),
        ])
        worst = max(ours.samples)
        _say(f"{label}, sorted by {sort}: simdeck {ours.line}; naive LIKE scan {naive.line}; "
             f"plain query {plain.line}")
        out.append(Figure(
            f"{label}: first page of a search, random set of {n} (seed {seed}), "
            f"sorted by {sort}", "p95 ≤ 100 ms, worst ≤ 200 ms", p95(ours.samples),
            detail=f"simdeck {ours.line}; naive LIKE scan {naive.line}; "
                   f"plain query {plain.line}",
            naive=p95(naive.samples), naive_label="LIKE scan in sort order (p95)",
            meets=p95(ours.samples) <= 100 and worst <= 200, samples=ours.samples))
    shown, exact = _side_by_side(searches, [counts_by_state_estimate, counts_by_state])
    approximate = sum(1 for t in searches if counts_by_state_estimate(Filter(search=t))
                      .approximate)
    _say(f"{label}, counts: shown first (≈ for {approximate} of {n}) {shown.line}; "
         f"exact {exact.line}")
    out.append(Figure(
        f"{label}: counts per state shown, same set", "p95 ≤ 300 ms", p95(shown.samples),
        detail=f"shown first (exact, or ≈ for {approximate} of {n}): {shown.line}; "
               f"exact: {exact.line}",
        naive=p95(exact.samples), naive_label="exact counts (p95)",
        meets=p95(shown.samples) <= 300, samples=shown.samples))
    db.database.close()
    return out


def print_set(n: int = SEARCHES, seed: int = SEED) -> None:
    """The set itself, one search a line (to see what was measured)."""
    for text in search_set(n, seed):
        print(text)


def ensure_pg_demo(url: str, endpoints: int) -> None:
    """Build the demo fleet in the PostgreSQL database at ``url`` unless it holds one."""
    from simdeck.core import demo, models

    db.open_database(url)
    try:
        if demo.status() != demo.BUILT:
            models.create_schema(indexes=False)
            demo.build_demo(endpoints)
    finally:
        db.database.close()
