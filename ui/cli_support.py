"""What every `onrecord` command shares: the core built from the command's settings, domain errors as one line,
JSON output. The commands live in cli.py and commands_*.py; none of them imports another."""

from __future__ import annotations

import functools
import json
import sys

import click

from onrecord import Onrecord
from onrecord.search.config import Settings
from onrecord.search.errors import OnrecordError

# What Ctrl-C says: a command that writes leaves nothing half-written; a server just stops.
INTERRUPTED = "interrupted: nothing half-written is visible; run the same command again to finish"


def settings_for(ctx: click.Context, **overrides) -> Settings:
    """Flags beat ONRECORD_* variables (and .env), which beat the defaults."""
    root = ctx.find_root().obj or {}
    given = {k: v for k, v in (root | overrides).items() if v is not None}
    if root.get("archive") is not None and root.get("chroma_url") is None:
        given["chroma_url"] = None  # a flag beats the environment: --archive wins over ONRECORD_CHROMA_URL
    return Settings(**given)


def core_for(ctx: click.Context, **overrides) -> Onrecord:
    return Onrecord(settings_for(ctx, **overrides))


def handle_errors(command=None, *, stopped: str | None = None):
    """Domain errors become one line on stderr and exit 1; Ctrl-C exits 130 with one line, no traceback: `stopped`
    names what a server command stopped; a command that writes says nothing half-written is visible."""
    if command is None:
        return functools.partial(handle_errors, stopped=stopped)

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except OnrecordError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo(f"stopped {stopped}" if stopped else INTERRUPTED, err=True)
            sys.exit(0 if stopped else 130)

    return wrapper


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))
