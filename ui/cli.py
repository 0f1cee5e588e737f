"""The `onrecord` command: parse, call one library function, print (JSON when asked)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from functools import wraps
from pathlib import Path

import click

from onrecord.search.config import Settings
from onrecord.search.errors import OnrecordError
from onrecord.search.timefmt import format_timestamp


def _settings(ctx: click.Context, **overrides) -> Settings:
    given = {k: v for k, v in (ctx.obj | overrides).items() if v is not None}
    if ctx.obj.get("archive") is not None and ctx.obj.get("chroma_url") is None:
        given["chroma_url"] = None  # a flag beats the environment: --archive wins over ONRECORD_CHROMA_URL
    return Settings(**given)


def _archive(settings: Settings, *, create: bool = False):
    """The archive the command names; only ingest creates one (a read on a mistyped path must not)."""
    from onrecord.search.store import open_archive

    return open_archive(settings, create=create)


def _searcher(settings: Settings, archive=None):
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher

    archive = archive or _archive(settings)
    return Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)


def _answerer(settings: Settings, archive=None, searcher=None):  # searcher: a long-lived one (the API server's)
    from onrecord.search.writeups.answer import Answerer
    from onrecord.search.writeups.llm import chat_model_for

    chat, why_not = chat_model_for(settings)
    return Answerer(searcher or _searcher(settings, archive), chat, why_not)


def _summarizer(settings: Settings, archive=None, answerer=None):
    from onrecord.search.writeups.summary import Summarizer

    return Summarizer(answerer or _answerer(settings, archive), context_tokens=settings.llm_context_tokens,
                      topic_minutes=settings.topic_minutes)


def _write_up(settings: Settings, archive, interview):
    """The interview's write-up; when none is stored yet, writing it shows a spinner on stderr (a while for a
    long interview, or with an LLM)."""
    from rich.console import Console

    summarizer = _summarizer(settings, archive)
    stored = summarizer.stored(interview)
    if stored is not None:
        return stored
    with Console(stderr=True).status(f"Writing up {interview.title} topic by topic…"):
        return summarizer.summarize(interview.id)


def handle_errors(command):
    """Domain errors become one line on stderr and exit 1; Ctrl-C exits 130 without a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except OnrecordError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing half-written is visible; run the same command again to finish",
                       err=True)
            sys.exit(130)

    return wrapper


def _emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def deleted_json(interview) -> dict:
    """What `delete --json` and the API's DELETE report."""
    return {"deleted": interview.id, "title": interview.title}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    interviews = _archive(_settings(ctx)).list()
    if as_json:
        _emit_json([i.as_json() for i in interviews])
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
    from onrecord.search.export import export

    archive = _archive(_settings(ctx))
    found = archive.resolve(interview)
    if as_json:
        for piece in export(found, archive.segments(found), "json"):
            click.echo(piece, nl=False)
        return
    facts = found.as_json()
    for key in ("id", "title", "source", "duration", "language", "speakers", "segments", "chunks", "date", "created"):
        value = facts[key]
        if key == "duration":
            value = format_timestamp(value, millis=False)
        elif key == "speakers":
            value = ", ".join(value) or "unknown"
        click.echo(f"{key:>9}: {value}")
    click.echo()
    for piece in export(found, archive.segments(found), "txt"):
        click.echo(piece, nl=False)


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
    from onrecord.search.export import export as render

    settings = _settings(ctx)
    archive = _archive(settings)
    found = archive.resolve(interview)
    summary = _write_up(settings, archive, found) if fmt == "md" else None
    pieces = render(found, archive.segments(found), fmt, summary)
    if output is None:
        for piece in pieces:
            click.echo(piece, nl=False)
        return
    _write_atomically(output, pieces)
    if as_json:
        _emit_json({"interview_id": found.id, "format": fmt, "path": str(output)})
    else:
        click.echo(f"wrote {output}")


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
    archive = _archive(_settings(ctx))
    found = archive.resolve(interview)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete {found.id} ({found.title})?", abort=True)
    archive.delete(found.id)
    if as_json:
        _emit_json(deleted_json(found))
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
    from onrecord.search.store.details import update_details

    if title is None and date is None:
        raise OnrecordError("nothing to change: give --title and/or --date")
    archive = _archive(_settings(ctx))
    changed = update_details(archive, archive.resolve(interview).id, title=title, date=date)
    if as_json:
        _emit_json(changed.as_json())
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
    from onrecord.search.store.speakers import rename as rename_speaker
    from onrecord.search.store.speakers import speaker_table

    archive = _archive(_settings(ctx))
    found = archive.resolve(interview)
    if rename:
        found = rename_speaker(archive, found, *rename)
    rows = speaker_table(found, archive.segments(found))
    if as_json:
        _emit_json([r.as_json() for r in rows])
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
    from onrecord.ingest.diarize import SenkoDiarizer, add_speakers

    settings = _settings(ctx)
    archive = _archive(settings)
    if every == bool(interviews):
        raise OnrecordError("name the interviews to diarize, or pass --all")
    chosen = ([i for i in archive.list() if i.kind != "transcript"] if every
              else [archive.resolve(i) for i in interviews])
    diarizer, failed = SenkoDiarizer(settings.device), 0
    for interview in chosen:
        try:
            done, error = add_speakers(archive, interview, diarizer, speakers), None
        except OnrecordError as exc:
            done, error, failed = None, str(exc), failed + 1
        row = {"interview_id": interview.id, "title": interview.title, "status": "failed" if error else "diarized",
               "speakers": list(done.speakers) if done else [], "error": error}
        if as_json:
            _emit_json(row)
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
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.store.reindex import reindex as run_reindex

    settings = _settings(ctx, embed_model=embed_model)
    archive = _archive(settings)
    embedder = embedder_for(settings, archive.embed_model)
    chunks = run_reindex(archive, embedder)
    result = {"embed_model": embedder.name, "interviews": len(archive.list()), "chunks": chunks}
    if as_json:
        _emit_json(result)
    else:
        click.echo(f"reindexed {result['interviews']} interviews into {chunks} chunks with {embedder.name}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Report the result as JSON.")
@click.pass_context
@handle_errors
def migrate(ctx, as_json):
    """Upgrade an archive made by an older onrecord, in place. Safe to interrupt and run again."""
    from onrecord.search.store.migrate import migrate as run_migrate
    from onrecord.search.store import open_archive

    archive = open_archive(_settings(ctx), upgrading=True)
    done = run_migrate(archive)
    if as_json:
        _emit_json({"archive": archive.location, "from_schema": done.from_schema, "to_schema": done.to_schema,
                    "records_changed": done.changed})
    elif done.from_schema == done.to_schema:
        click.echo(f"{archive.location} is up to date (schema {done.to_schema})")
    else:
        click.echo(f"{archive.location}: schema {done.from_schema} -> {done.to_schema}, "
                   f"{done.changed} records rewritten")


from . import commands_ingest  # noqa: E402,F401 - registers ingest on `main`
from . import commands_read, commands_serve  # noqa: E402,F401 - register search, ask, summarize, ui, mcp and serve
