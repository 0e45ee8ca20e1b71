"""Options and argument types several command groups share."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import click

from simdeck.core import clock, queries, records
from simdeck.core.errors import NotFound, SimdeckError
from simdeck.core.lifecycle import State
from simdeck.tui.cli import output as out

DEFAULT_LIMIT = 100
#: The most rows a --limit may ask for (beyond it, use 0: all, streamed).
MAX_ROWS = 100_000_000


def _remember_raw_csv(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[out.RAW_CSV] = True


#: ``--raw-csv``: every command that can print CSV takes it.
raw_csv_option = click.option(
    "--raw-csv", is_flag=True, expose_value=False, callback=_remember_raw_csv,
    help="CSV with every value exactly as stored, for scripts: no ' before a cell "
    "starting with = + - @, control characters kept. Not for spreadsheets or terminals.",
)


def format_option(default: str = "table", *, streams: bool = False) -> Callable[[Any], Any]:
    """``--format`` and ``--raw-csv``; ``streams``: a long list, which may also be written
    as JSON Lines."""
    if streams:
        fmt = click.option(
            "--format", "fmt", type=click.Choice(out.STREAM_FORMATS), default=default,
            show_default=True,
            help="Output: aligned table, CSV, JSON (an array, one object a line) or "
            "jsonl (JSON Lines: one object a line, no array).",
        )
    else:
        fmt = click.option(
            "--format", "fmt", type=click.Choice(out.FORMATS), default=default,
            show_default=True, help="Output: aligned table, CSV or JSON.",
        )

    def both(fn: Callable[..., Any]) -> Callable[..., Any]:
        return fmt(raw_csv_option(fn))  # type: ignore[no-any-return]

    return both


def limit_option(default: int = DEFAULT_LIMIT) -> Callable[[Any], Any]:
    return click.option("--limit", type=click.IntRange(0, MAX_ROWS), default=default,
                        show_default=True, help="At most N rows; 0 for all (streamed).")


def _states(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> tuple[str, ...]:
    try:
        return tuple(queries.parse_state(v).value for v in values)
    except SimdeckError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


STATE_NAMES = "|".join(s.value for s in State)


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of ``endpoints list``: --state (repeatable), --group, --tag, --search."""
    for option in reversed([
        click.option("--state", "states", multiple=True, callback=_states, metavar="STATE",
                     help=f"Only this state ({STATE_NAMES}); repeat for several."),
        click.option("--group", "group_filter", metavar="GROUP",
                     help="Only this Endpoint Group ('none' for endpoints without one)."),
        click.option("--tag", "tag_filter", metavar="TAG", help="Only endpoints with this tag."),
        click.option("--search", default="", metavar="Q",
                     help="ICCID prefix, name or reference; also field:value tokens "
                     "(state: group: tag: imsi: eid: imei: ip:), '-' negates."),
    ]):
        fn = option(fn)
    return fn


def make_filter(
    states: tuple[str, ...], group: str | None, tag: str | None, search: str
) -> queries.Filter:
    """The Filter for the options; a --group that names no group is an input error."""
    if group and group.strip().lower() not in ("none", "-"):
        if group.strip() not in queries.group_names().values():
            raise NotFound(f"group {group.strip()}: no Endpoint Group has this name")
        group = group.strip()
    return queries.Filter(states=states, group=group or None, tag=tag or None,
                          search=search or "")


def clearable(value: str | None) -> Any:
    """An option that may clear a setting: absent → unchanged, 'none' → cleared."""
    if value is None:
        return records.UNSET
    return None if value.strip().lower() in ("none", "") else value


class When(click.ParamType):
    """A moment: an ISO date or time (UTC unless it says otherwise), or an age like 2h."""

    name = "TIME"
    UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        m = re.fullmatch(r"(\d{1,6})\s*([smhdw])(?:\s+ago)?", text.lower())
        try:
            if m:
                return clock.now() - dt.timedelta(**{self.UNITS[m.group(2)]: int(m.group(1))})
            parsed = dt.datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
            return parsed
        except OverflowError:
            self.fail(f"{text!r} is too far from today to be a time", param, ctx)
        except ValueError:
            self.fail(
                f"{text!r} is not a time: give an ISO date or time (2024-05-01, "
                "2024-05-01T08:30Z) or an age such as 30m, 2h, 3d, 1w", param, ctx,
            )
