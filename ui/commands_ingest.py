"""`onrecord ingest`: files, folders, URLs and podcast feeds, or a folder watched for new files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from onrecord.search.errors import OnrecordError
from onrecord.search.timefmt import format_timestamp

from .cli_support import core_for, handle_errors


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--title", help="Title for the interview (only with a single source).")
@click.option("--whisper-model", help="Whisper model: tiny.en (default; English, bundled), base (any language; "
              "the [multilingual] extra), or any faster-whisper name or path.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where Whisper and the embedder run.")
@click.option("--compute-type", help="CTranslate2 compute type, e.g. int8, float16 (default: auto).")
@click.option("--beam-size", type=click.IntRange(1, 20), help="Whisper beam size (default 5).")
@click.option("--language", help="Spoken language code; detected when omitted.")
@click.option("--no-diarize", "diarize", flag_value=False, default=None,
              help="Do not tell speakers apart (faster; audio is then stored without speakers).")
@click.option("--speakers", type=click.IntRange(1, 20), help="How many speakers the recordings have, if known.")
@click.option("--embed-model", help="sentence-transformers model (default: the archive's).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Podcast feeds: only the newest N episodes.")
@click.option("--watch", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Ingest the files in DIR, then each new one once it is complete, until Ctrl-C.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source, one per line.")
@click.pass_context
@handle_errors
def ingest(ctx, sources, title, whisper_model, device, compute_type, beam_size, language, diarize, speakers,
           embed_model, limit, watch, as_json):
    """Add media files, folders, URLs, podcast feeds and transcripts (VTT, SRT, JSON) to the archive."""
    from rich.console import Console

    from .progress import IngestProgress

    if bool(sources) == bool(watch):
        raise click.UsageError("give the SOURCES to ingest, or --watch DIR (not both)")
    core = core_for(ctx, whisper_model=whisper_model, device=device, compute_type=compute_type,
                    beam_size=beam_size, language=language, embed_model=embed_model, diarize=diarize,
                    speakers=speakers)
    console = Console(stderr=True)
    found = _watched(watch, console) if watch else _expanded(core, sources, limit, console)
    if title and (watch or len(found) != 1):
        raise OnrecordError(f"--title needs exactly one source, got {'a watched folder' if watch else len(found)}")
    # A Whisper model that is not installed fails here, in one line, before anything is written.
    check_model = bool(watch) or any(source.kind != "transcript" for source in found)
    with IngestProgress(console, 0 if watch else len(found)) as progress:
        ingestor = core.ingestor(progress=progress, title=title, check_model=check_model)
        try:
            failed = _report(ingestor.run(_announced(found, progress, core.archive())), progress, as_json)
        except KeyboardInterrupt:
            if not watch:
                raise
            progress.echo(f"stopped watching {watch}", err=True)
            sys.exit(0)
    sys.exit(1 if failed else 0)


def _expanded(core, sources, limit: int | None, console) -> list:
    """Files, folders and URLs as sources; a URL that serves a podcast feed becomes its (newest `limit`)
    episodes, each feed said in a line."""
    expanded = core.expand(sources, limit=limit)
    for feed in expanded.feeds:
        taken = min(len(feed.episodes), limit or len(feed.episodes))
        newest = f", the newest {taken}" if taken < len(feed.episodes) else ""
        console.print(f"feed {feed.url}: {feed.title or 'untitled'}: {len(feed.episodes)} episodes{newest}",
                      markup=False, highlight=False, soft_wrap=True)
    return expanded.sources


def _watched(folder: Path, console):
    from onrecord.ingest.watch import watch_folder

    if not folder.expanduser().is_dir():
        raise OnrecordError(f"cannot watch {folder}: no such folder")
    sources = watch_folder(folder)
    console.print(f"watching {folder} for new recordings and transcripts (Ctrl-C stops)", markup=False,
                  highlight=False, soft_wrap=True)
    return sources


def _announced(sources, progress, archive):
    """Sources as they are ingested, with a line on stderr before each feed episode not yet in the archive (its
    download may take a while before a progress bar appears); those already there are reported as skipped."""
    from onrecord.ingest.sources import content_id

    if not isinstance(sources, list):  # a watched folder: each file has its result line
        yield from sources
        return
    fresh = [s for s in sources if s.episode is not None and not archive.has(content_id(s))]
    order = {id(s): n for n, s in enumerate(fresh, 1)}
    for source in sources:
        if id(source) in order:
            episode = source.episode
            progress.echo(f"episode {order[id(source)]}/{len(fresh)}: {episode.show or 'untitled'}: {episode.title}",
                          err=True)
        yield source


def _report(results, progress, as_json: bool) -> int:
    """A line per source (JSON when asked), as each is done; how many failed."""
    failed = 0
    for result in results:
        progress.source_done()
        failed += result.status == "failed"
        if as_json:
            progress.echo(json.dumps(result.as_json(), ensure_ascii=False))
        elif result.status == "failed":
            named = f" ({result.title})" if result.title else ""
            progress.echo(f"error: {result.source}{named}: {result.error}", err=True)
        else:
            length = format_timestamp(result.duration or 0, millis=False)
            progress.echo(f"{result.status:8} {result.interview_id}  {result.title}  ({length})")
            if result.notice:
                progress.echo(f"note: {result.source}: {result.notice}", err=True)
    return failed
