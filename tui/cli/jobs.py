"""``simdeck jobs``: bulk jobs, their counts and skipped endpoints; resume one."""

from __future__ import annotations

from pathlib import Path

import click

from simdeck.core import export as core_export
from simdeck.core import jobs as core_jobs
from simdeck.core.actions import describe_stored
from simdeck.core.lifecycle import ACTIONS
from simdeck.tui.cli import output as out
from simdeck.tui.cli import streaming
from simdeck.tui.cli.bulk import Progress, interruptible, report
from simdeck.tui.cli.params import format_option, limit_option
from simdeck.tui.cli.root import CONTEXT, main, session

JOB_KEYS = ("id", "action", "actor", "status", "total", "applied", "skipped", "failed",
            "pending", "created_at", "finished_at", "message")
JOB_ID = click.IntRange(1, 2**63 - 1)


def _action_label(name: str) -> str:
    """The action's label, or its stored name when this simdeck does not know it."""
    return ACTIONS[name].label if name in ACTIONS else name


@main.group(context_settings=CONTEXT)
def jobs() -> None:
    """Bulk jobs: what each applied, skipped and failed; resume an interrupted one."""


@jobs.command("list")
@limit_option(50)
@format_option()
@click.pass_context
def jobs_list(ctx: click.Context, limit: int, fmt: str) -> None:
    """The latest bulk jobs, newest first."""
    session(ctx)
    items = core_jobs.list_jobs(limit=limit or 1_000_000)
    if fmt == "json":
        out.echo_json(items)
    elif fmt == "csv":
        out.echo_csv(JOB_KEYS, items)
    elif not items:
        out.echo("No jobs yet.", err=True)
    else:
        out.echo_lines(out.table(
            ("ID", "ACTION", "ACTOR", "STATUS", "TOTAL", "APPLIED", "SKIPPED", "FAILED",
             "PENDING", "CREATED"),
            [(j["id"], j["action"], j["actor"], j["status"], j["total"], j["applied"],
              j["skipped"], j["failed"], j["pending"], j["created_at"]) for j in items],
        ))


@jobs.command("show")
@click.argument("job_id", metavar="JOB", type=JOB_ID)
@format_option()
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int, fmt: str) -> None:
    """One job: its counts, its skipped endpoints by reason."""
    session(ctx)
    j = core_jobs.job_view(core_jobs.get_job(job_id))
    if fmt == "json":
        out.echo_json(j)
    elif fmt == "csv":
        out.echo_csv(JOB_KEYS, [j])
    else:
        target = j.get("targets") or {}
        what = (describe_stored(target) if "filter" in target
                else f"{target.get('ids', '?')} endpoints chosen by id")
        lines = [f"Job {j['id']}"] + out.key_values([
            ("Action", _action_label(j["action"])),
            ("Actor", j["actor"]),
            ("Targets", what),
            ("Group", j.get("group")),
            ("Status", j["status"]),
            ("Total", "not known yet: its targets are still being recorded"
             if j.get("recording") else j["total"]),
            ("Applied", j["applied"]),
            ("Skipped", j["skipped"]),
            ("Failed", j["failed"]),
            ("Pending", j["pending"]),
            ("Created", j["created_at"]),
            ("Finished", j["finished_at"]),
            ("Message", j["message"]),
        ])
        if j["skipped_by_reason"]:
            lines += ["", "Skipped by reason"]
            lines += [f"  {n:,} — {why}" for why, n in sorted(j["skipped_by_reason"].items())]
            lines.append(f"  (their ICCIDs: simdeck jobs skipped {j['id']} --output FILE.csv)")
        out.echo_lines(lines)


@jobs.command("resume")
@click.argument("job_id", metavar="JOB", type=JOB_ID)
@click.option("--force", is_flag=True,
              help="Admins: take over a job that looks alive but has sent no heartbeat "
              "for a minute (its process is stopped or hung).")
@format_option()
@click.pass_context
def jobs_resume(ctx: click.Context, job_id: int, force: bool, fmt: str) -> None:
    """Carry on an interrupted or cancelled job from the last chunk it committed."""
    actor = session(ctx)
    progress = Progress(_action_label(core_jobs.get_job(job_id).action))
    with interruptible() as cancelled:
        try:
            result = core_jobs.resume(actor, job_id, force=force, progress=progress,
                                      cancelled=cancelled)
        finally:
            progress.end()
    report(result, fmt)


@jobs.command("skipped")
@click.argument("job_id", metavar="JOB", type=JOB_ID)
@click.option("--output", "-o", metavar="FILE",
              help="Write them (iccid, reason) to this file: CSV, or JSON / JSON Lines "
              "for a .json / .jsonl name.")
@format_option(streams=True)
@click.pass_context
def jobs_skipped(ctx: click.Context, job_id: int, output: str | None, fmt: str) -> None:
    """The ICCIDs a job skipped, with the reason: to fix them or act on them again."""
    session(ctx)
    core_jobs.get_job(job_id)
    source = core_export.skipped(job_id)
    if output:
        target = Path(output).expanduser()
        kind = core_export.format_of(output)
        n, seconds = streaming.to_file(source, kind, target, raw=out.raw_csv())
        if fmt == "json":
            out.echo_json({"file": str(target), "format": kind, "written": n})
        else:
            click.echo(streaming.summary(n, "skipped ICCIDs", str(target), seconds))
        return
    if fmt != "table":
        streaming.to_stdout(source, fmt, raw=out.raw_csv())
        return
    items = [{"iccid": iccid, "reason": why} for iccid, why in core_jobs.job_skipped(job_id)]
    if items:
        out.echo_lines(out.table(("ICCID", "REASON"), [(i["iccid"], i["reason"]) for i in items]))
    else:
        out.echo(f"Job {job_id} skipped nothing.", err=True)
