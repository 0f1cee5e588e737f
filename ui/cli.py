"""The `onrecord` command: parse, call one method of the core (`onrecord.Onrecord`), print (JSON when asked).
The archive commands are here; ingest, the readers and the servers are in commands_*.py, added at the end."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from onrecord import __version__
from onrecord.search.errors import OnrecordError
from onrecord.search.timefmt import format_timestamp

from . import commands_ingest, commands_read, commands_serve
from .cli_support import core_for, emit_json, handle_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="onrecord", message="%(prog)s %(version)s")
@click.option("--archive", default=None, metavar="FOLDER|URL",
              help="Archive folder (embedded Chroma), or a `chroma run` server: http://host:8000[/database]. "
              "Env: ONRECORD_ARCHIVE.")
@click.option("--chroma-url", default=None, metavar="URL", help="Same as --archive with a server URL. "
              "Env: ONRECORD_CHROMA_URL.")
@click.pass_context
def main(ctx: click.Context, archive: str | None, chroma_url: str | None) -> None:
    """onrecord: a searchable archive of what was said in interviews, podcasts and talks."""
    ctx.obj = {"archive": archive, "chroma_url": chroma_url}


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@handle_errors
def list_(ctx, as_json):
    """List the interviews in the archive."""
    interviews = core_for(ctx).interviews()
    if as_json:
        emit_json([i.as_json() for i in interviews])
        return
    if not interviews:
        click.echo("The archive is empty: add something with `onrecord ingest FILE|FOLDER|URL`.")
    for i in interviews:
        who = f"  [{', '.join(i.speakers)}]" if i.speakers else ""
        click.echo(f"{i.id}  {format_timestamp(i.duration, millis=False):>8}  {i.language or '--':<3}  {i.title}{who}")


@main.command()
@click.argument("interview")
@click.option("--json", "as_json", is_flag=True, help="Print the interview and its segments as JSON.")
@click.pass_context
@handle_errors
def show(ctx, interview, as_json):
    """Show an interview's metadata and its transcript with timestamps."""
    core = core_for(ctx)
    found = core.interview(interview)
    if not as_json:
        for key, value in _facts(found):
            click.echo(f"{key:>9}: {value}")
        click.echo()
    for piece in core.export(found.id, "json" if as_json else "txt"):
        click.echo(piece, nl=False)


def _facts(interview) -> list[tuple[str, str]]:
    """An interview's metadata as `show` prints it: every value in words, "unknown" or "none" rather than None."""
    facts = interview.as_json()
    shown = {"duration": format_timestamp(interview.duration, millis=False),
             "speakers": ", ".join(interview.speakers) or "unknown", "language": interview.language or "unknown",
             "date": interview.date or "unknown", "show": interview.show or "none"}
    keys = ("id", "title", "source", "duration", "language", "speakers", "segments", "chunks", "date", "created")
    return [(key, str(shown.get(key, facts[key]))) for key in keys]


@main.command()
@click.argument("interview")
@click.option("--format", "fmt", type=click.Choice(["srt", "vtt", "txt", "json", "md"]), default="txt",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE, not stdout.")
@click.option("--json", "as_json", is_flag=True, help="With -o: report what was written as JSON.")
@click.pass_context
@handle_errors
def export(ctx, interview, fmt, output, as_json):
    """Export a transcript as SRT, WebVTT, text, JSON or Markdown."""
    core = core_for(ctx)
    found = core.interview(interview)
    pieces = core.export(found.id, fmt, write_up=_write_up(core, found) if fmt == "md" else None)
    if output is None:
        for piece in pieces:
            click.echo(piece, nl=False)
        return
    _write_atomically(output, pieces)
    if as_json:
        emit_json({"interview_id": found.id, "format": fmt, "path": str(output)})
    else:
        click.echo(f"wrote {output}")


def _write_up(core, interview):
    """The interview's write-up; when none is stored yet, writing it shows a spinner on stderr (a while for a
    long interview, or with an LLM)."""
    from rich.console import Console

    stored = core.stored_summary(interview.id)
    if stored is not None:
        return stored
    with Console(stderr=True).status(f"Writing up {interview.title} topic by topic…"):
        return core.summarize(interview.id)


def _write_atomically(path: Path, pieces) -> None:
    """Write beside the target and rename, so a failed export never leaves half a file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for piece in pieces:
                f.write(piece)
        os.replace(tmp, path)
    except OSError as exc:
        raise OnrecordError(f"cannot write {path}: {exc.strerror or exc}") from exc


@main.command()
@click.argument("interview")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Report what was deleted as JSON.")
@click.pass_context
@handle_errors
def delete(ctx, interview, yes, as_json):
    """Delete an interview (its transcript, chunks and metadata; media files are left alone)."""
    core = core_for(ctx)
    found = core.interview(interview)
    if not yes:
        if not sys.stdin.isatty():  # a script or a pipe: nobody to ask, so nothing is deleted unasked
            raise OnrecordError(f"not deleting {found.id} ({found.title}) without --yes: no terminal to confirm on")
        click.confirm(f"Delete {found.id} ({found.title})?", abort=True)
    core.delete(found.id)
    if as_json:
        emit_json({"deleted": found.id, "title": found.title})
    else:
        click.echo(f"deleted {found.id}  {found.title}")


@main.command()
@click.argument("interview")
@click.option("--title", help="The new title.")
@click.option("--date", metavar="YYYY-MM-DD", help="When it was recorded; --date \"\" clears it.")
@click.option("--json", "as_json", is_flag=True, help="Print the changed interview as JSON.")
@click.pass_context
@handle_errors
def edit(ctx, interview, title, date, as_json):
    """Change an interview's title or recording date in place (nothing is transcribed again)."""
    if title is None and date is None:
        raise OnrecordError("nothing to change: give --title and/or --date")
    changed = core_for(ctx).edit(interview, title=title, date=date)
    if as_json:
        emit_json(changed.as_json())
    else:
        click.echo(f"edited {changed.id}  {changed.title}  ({changed.date or 'no date'})")


@main.command()
@click.argument("interview")
@click.option("--rename", nargs=2, metavar="SPEAKER NAME",
              help="Name a speaker (SPEAKER: its label, like 'Speaker 2', or its current name). Naming it by its "
              "label removes the name.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of {label, name, seconds, segments, "
              "first_words}.")
@click.pass_context
@handle_errors
def speakers(ctx, interview, rename, as_json):
    """List who speaks in an interview (label, name, talk time, first words), or name one of them."""
    core = core_for(ctx)
    found = core.rename_speaker(interview, *rename) if rename else core.interview(interview)
    rows = core.speakers(found.id)
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    if not rows:
        click.echo(f"{found.title}: no speakers known (a transcript without speaker tags)")
    for r in rows:
        shown = f"{r.name} ({r.label})" if r.name else r.label
        if r.recognised:
            shown += f" [voice {r.recognised:.2f}]"
        click.echo(f"{shown:<32} {format_timestamp(r.seconds, millis=False):>8}  {r.segments:>5} segments  "
                   f"“{r.first_words.rstrip('.,;:!?')}…”")


@main.command()
@click.argument("interviews", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every recording in the archive (transcripts are left alone).")
@click.option("--speakers", type=click.IntRange(1, 20), help="How many speakers there are, if known.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per interview, one per line.")
@click.pass_context
@handle_errors
def diarize(ctx, interviews, every, speakers, as_json):
    """Tell the speakers apart in recordings already in the archive, from their media, without transcribing
    them again. Their speakers become Speaker 1..N (names given before are cleared)."""
    core = core_for(ctx)
    if every == bool(interviews):
        raise OnrecordError("name the interviews to diarize, or pass --all")
    chosen = ([i for i in core.interviews() if i.kind != "transcript"] if every
              else [core.interview(i) for i in interviews])
    failed = 0
    for interview in chosen:
        try:
            done, error = core.diarize(interview.id, speakers), None
        except OnrecordError as exc:
            done, error, failed = None, str(exc), failed + 1
        row = {"interview_id": interview.id, "title": interview.title, "status": "failed" if error else "diarized",
               "speakers": list(done.speakers) if done else [], "error": error}
        if as_json:
            emit_json(row)
        elif error:
            click.echo(f"error: {error}", err=True)
        else:
            click.echo(f"diarized {interview.id}  {interview.title}  [{', '.join(done.speakers)}]")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--embed-model", help="sentence-transformers model to switch to (default: the archive's).")
@click.option("--json", "as_json", is_flag=True, help="Report the result as JSON.")
@click.pass_context
@handle_errors
def reindex(ctx, embed_model, as_json):
    """Re-embed every interview from its stored transcript (e.g. with a new embedding model)."""
    core = core_for(ctx, embed_model=embed_model)
    model, chunks = core.reindex()
    result = {"embed_model": model, "interviews": len(core.interviews()), "chunks": chunks}
    if as_json:
        emit_json(result)
    else:
        click.echo(f"reindexed {result['interviews']} interviews into {chunks} chunks with {model}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Report the result as JSON.")
@click.pass_context
@handle_errors
def migrate(ctx, as_json):
    """Upgrade an archive made by an older onrecord, in place. Safe to interrupt and run again."""
    archive, done = core_for(ctx).migrate()
    if as_json:
        emit_json({"archive": archive.location, "from_schema": done.from_schema, "to_schema": done.to_schema,
                    "records_changed": done.changed})
    elif done.from_schema == done.to_schema:
        click.echo(f"{archive.location} is up to date (schema {done.to_schema})")
    else:
        click.echo(f"{archive.location}: schema {done.from_schema} -> {done.to_schema}, "
                   f"{done.changed} records rewritten")


for _command in (commands_ingest.ingest, commands_read.search, commands_read.ask, commands_read.summarize,
                 commands_read.ui, commands_read.mcp, commands_serve.serve):
    main.add_command(_command)
