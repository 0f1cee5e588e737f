"""The `onrecord` command: parse, call one library function, print (JSON when asked)."""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from functools import wraps
from pathlib import Path

import click

from search.config import Settings
from search.errors import OnrecordError
from search.timefmt import format_timestamp


def _settings(ctx: click.Context, **overrides) -> Settings:
    given = {k: v for k, v in (ctx.obj | overrides).items() if v is not None}
    return Settings(**given)


def _archive(settings: Settings):
    from search.store import open_archive

    return open_archive(settings)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Archive folder (embedded Chroma). Env: ONRECORD_ARCHIVE.")
@click.option("--chroma-url", default=None, help="Use a `chroma run` server instead, e.g. http://host:8000. "
              "Env: ONRECORD_CHROMA_URL.")
@click.pass_context
def main(ctx: click.Context, archive: Path | None, chroma_url: str | None) -> None:
    """onrecord: a searchable archive of what was said in interviews, podcasts and talks."""
    ctx.obj = {"archive": archive, "chroma_url": chroma_url}


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--title", help="Title for the interview (only with a single source).")
@click.option("--whisper-model", help="faster-whisper model name or path (default tiny.en, bundled).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where Whisper and the embedder run.")
@click.option("--compute-type", help="CTranslate2 compute type, e.g. int8, float16 (default: auto).")
@click.option("--beam-size", type=click.IntRange(1, 20), help="Whisper beam size (default 5).")
@click.option("--language", help="Spoken language code; detected when omitted.")
@click.option("--embed-model", help="sentence-transformers model (default: the archive's).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source, one per line.")
@click.pass_context
@handle_errors
def ingest(ctx, sources, title, whisper_model, device, compute_type, beam_size, language, embed_model, as_json):
    """Add media files, folders, URLs and transcripts (VTT, SRT, onrecord JSON) to the archive."""
    from rich.console import Console

    from ingest.pipeline import Ingestor
    from ingest.sources import expand
    from ingest.transcribe import TranscribeOptions, WhisperTranscriber
    from search.embedder import embedder_for

    from .progress import IngestProgress

    settings = _settings(ctx, whisper_model=whisper_model, device=device, compute_type=compute_type,
                         beam_size=beam_size, language=language, embed_model=embed_model)
    found = expand(sources)
    if title and len(found) != 1:
        raise OnrecordError(f"--title needs exactly one source, got {len(found)}")
    archive = _archive(settings)
    transcriber = WhisperTranscriber(TranscribeOptions.from_settings(settings))
    console = Console(stderr=True)
    failed = 0
    with IngestProgress(console, len(found)) as progress:
        ingestor = Ingestor(archive, transcriber, embedder_for(settings, archive.embed_model),
                            progress=progress, title=title)
        for result in ingestor.run(found):
            progress.source_done()
            failed += result.status == "failed"
            if as_json:
                progress.echo(json.dumps(result.as_json(), ensure_ascii=False))
            elif result.status == "failed":
                progress.echo(f"error: {result.source}: {result.error}", err=True)
            else:
                length = format_timestamp(result.duration or 0, millis=False)
                progress.echo(f"{result.status:8} {result.interview_id}  {result.title}  ({length})")
    sys.exit(1 if failed else 0)


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
        click.echo(f"{i.id}  {format_timestamp(i.duration, millis=False):>8}  {i.title}{who}")


@main.command()
@click.argument("interview")
@click.option("--json", "as_json", is_flag=True, help="Print the interview and its segments as JSON.")
@click.pass_context
@handle_errors
def show(ctx, interview, as_json):
    """Show an interview's metadata and its transcript with timestamps."""
    from search.export import export

    archive = _archive(_settings(ctx))
    found = archive.resolve(interview)
    if as_json:
        for piece in export(found, archive.segments(found), "json"):
            click.echo(piece, nl=False)
        return
    facts = found.as_json()
    for key in ("id", "title", "source", "duration", "language", "speakers", "segments", "chunks", "created"):
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
    from search.export import export as render

    settings = _settings(ctx)
    archive = _archive(settings)
    found = archive.resolve(interview)
    summary = _summarizer(settings, archive).summarize(found.id) if fmt == "md" else None
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
        _emit_json({"deleted": found.id, "title": found.title})
    else:
        click.echo(f"deleted {found.id}  {found.title}")


@main.command()
@click.option("--embed-model", help="sentence-transformers model to switch to (default: the archive's).")
@click.option("--json", "as_json", is_flag=True, help="Report the result as JSON.")
@click.pass_context
@handle_errors
def reindex(ctx, embed_model, as_json):
    """Re-embed every interview from its stored transcript (e.g. with a new embedding model)."""
    from search.embedder import embedder_for
    from search.reindex import reindex as run_reindex

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
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits to return.")
@click.option("--interview", "interviews", multiple=True, help="Only this interview (id, prefix or title); repeatable.")
@click.option("--speaker", help="Only what this speaker said.")
@click.option("--since", help="Only interviews from this date on (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--until", help="Only interviews up to this date.")
@click.option("--mode", type=click.Choice(["hybrid", "semantic", "keyword"]), default="hybrid", show_default=True,
              help='Keyword mode honours "exact phrases".')
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of hits (with -: one array per line).")
@click.pass_context
@handle_errors
def search(ctx, query, limit, interviews, speaker, since, until, mode, as_json):
    """Search what was said. QUERY "-" reads one query per line from stdin."""
    from search.query import Filters

    settings = _settings(ctx)
    searcher = _searcher(settings)
    filters = Filters(interviews=tuple(interviews), speaker=speaker, since=since, until=until)
    run = functools.partial(searcher.search, limit=limit, mode=mode, filters=filters)
    if query != "-":
        hits = run(query)
        _emit_json([h.as_json() for h in hits]) if as_json else _print_hits(hits)
        return
    failed = False
    for line in sys.stdin:
        try:
            hits = run(line) if line.strip() else []
        except OnrecordError as exc:
            click.echo(f"error: {line.strip()[:60]!r}: {exc}", err=True)
            hits, failed = [], True
        _emit_json([h.as_json() for h in hits]) if as_json else _print_hits(hits)
    sys.exit(1 if failed else 0)


def _searcher(settings: Settings, archive=None):
    from search.embedder import embedder_for
    from search.searcher import Searcher

    archive = archive or _archive(settings)
    return Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)


def _answerer(settings: Settings, archive=None):
    from search.answer import Answerer
    from search.llm import chat_model_for

    chat, why_not = chat_model_for(settings)
    return Answerer(_searcher(settings, archive), chat, why_not)


def _summarizer(settings: Settings, archive=None):
    from search.summary import Summarizer

    answerer = _answerer(settings, archive)
    return Summarizer(answerer, answerer.searcher.embedder, context_tokens=settings.llm_context_tokens)


@main.command()
@click.argument("interview", required=False)
@click.option("--topic", help="Instead: what each interview says about this topic.")
@click.option("--interview", "interviews", multiple=True, help="With --topic: only these interviews; repeatable.")
@click.option("--refresh", is_flag=True, help="Recompute instead of reusing the stored summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def summarize(ctx, interview, topic, interviews, refresh, as_json):
    """Topic-by-topic write-up of an interview, or (--topic) a topic across interviews."""
    from search.query import Filters

    if bool(interview) == bool(topic):
        raise OnrecordError("give an interview, or --topic TOPIC (not both)")
    summarizer = _summarizer(_settings(ctx))
    if topic:
        result = summarizer.across(topic, Filters(interviews=tuple(interviews)))
    else:
        result = summarizer.summarize(interview, refresh=refresh)
    if as_json:
        _emit_json(result.as_json())
        return
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    _print_summary(result) if not topic else _print_across(result)


def _print_summary(summary) -> None:
    from search.summary import format_range

    click.echo(f"{summary.title}" + ("" if summary.mode == "llm" else "  [extractive]"))
    click.echo(f"\n{summary.overview}\n")
    for t in summary.topics:
        click.echo(f"{t.title} ({format_range(t)})\n  {t.summary}")
        _print_quotes(t.quotes, indent="    ")
        click.echo()


def _print_across(result) -> None:
    click.echo(f"{result.topic}" + ("" if result.mode == "llm" else "  [extractive]") + "\n")
    if not result.interviews:
        click.echo("No interview discusses this.")
    for take in result.interviews:
        click.echo(f"{take.title}\n  {take.summary}")
        _print_quotes(take.quotes, indent="    ")
        click.echo()


def _print_quotes(quotes, indent: str = "") -> None:
    for n, q in enumerate(quotes, 1):
        when = f"{format_timestamp(q.start, millis=False)}-{format_timestamp(q.end, millis=False)}"
        who = f" {q.speaker}:" if q.speaker else ""
        click.echo(f"{indent}[{n}] {q.title} [{when}]{who} “{q.text}”" + (f"\n{indent}    {q.link}" if q.link else ""))


@main.command()
@click.argument("question")
@click.option("--interview", "interviews", multiple=True, help="Only this interview (id, prefix or title); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and its quotes as JSON.")
@click.pass_context
@handle_errors
def ask(ctx, question, interviews, as_json):
    """Answer a question from verbatim, timestamped quotes (extractive when no LLM is configured)."""
    from search.query import Filters

    answer = _answerer(_settings(ctx)).ask(question, Filters(interviews=tuple(interviews)))
    if as_json:
        _emit_json(answer.as_json())
        return
    if answer.notice:
        click.echo(f"note: {answer.notice}", err=True)
    click.echo(("" if answer.mode == "llm" else "[extractive] ") + answer.answer + "\n")
    _print_quotes(answer.quotes)


@main.command()
@click.option("--port", type=int, help="Port (default: Streamlit's own setting, STREAMLIT_SERVER_PORT or 8501).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--json", "as_json", is_flag=True, help="Print the app's address as JSON before starting it.")
@click.pass_context
@handle_errors
def ui(ctx, port, host, as_json):
    """Start the app (Streamlit) on this archive."""
    import subprocess

    app = Path(__file__).resolve().parent / "app" / "main.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if port:
        command += ["--server.port", str(port)]
    env = dict(os.environ)
    for key, value in ctx.obj.items():  # the app reads the same settings from the environment
        if value is not None:
            env[f"ONRECORD_{key.upper()}"] = str(value)
    if as_json:
        _emit_json({"url": f"http://{host}:{port or os.environ.get('STREAMLIT_SERVER_PORT', 8501)}"})
    sys.exit(subprocess.call(command, env=env))


def _print_hits(hits) -> None:
    if not hits:
        click.echo("no hits")
    for hit in hits:
        when = f"{format_timestamp(hit.start, millis=False)}-{format_timestamp(hit.end, millis=False)}"
        who = f" {hit.speaker}:" if hit.speaker else ""
        click.echo(f"{hit.title}  [{when}]{who} {hit.text}")
        if hit.link:
            click.echo(f"    {hit.link}")
