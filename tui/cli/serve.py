"""``simdeck serve``: the console in a browser."""

from __future__ import annotations

from pathlib import Path

import click

from simdeck.tui.cli.root import fail, main, options, session


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Where to listen; anything but loopback needs --allow-remote.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--allow-remote", is_flag=True,
              help="Allow a host beyond loopback (127.0.0.1, ::1, localhost); "
                   "says what that exposes.")
@click.option("--public-url", metavar="URL",
              help="The https://host[:port] browsers use through a TLS proxy in front.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, allow_remote: bool,
          public_url: str | None) -> None:
    """The console in a browser (textual-serve), behind a token printed once."""
    opts = options(ctx)
    session(ctx)
    try:
        from simdeck.tui.serve import serve as serve_console
    except ImportError as exc:
        raise fail(f"the browser console is not available in this installation ({exc}); "
                   "install simdeck[serve]") from None
    url = opts.resolved_url
    if "://" not in url:  # each browser session starts in the server's folder: be exact
        url = str(Path(url).expanduser().resolve())
    serve_console(url, host=host, port=port, read_only=opts.read_only,
                  allow_remote=allow_remote, public_url=public_url)
