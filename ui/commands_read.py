"""The commands that read the archive: search, ask, summarize, the app and the MCP server."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from onrecord.search.config import is_loopback
from onrecord.search.errors import OnrecordError
from onrecord.search.timefmt import format_timestamp

from .cli_support import core_for, emit_json, handle_errors

@click.command()
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
    from onrecord.search.retrieval.query import Filters

    filters = Filters(interviews=tuple(interviews), speaker=speaker, since=since, until=until)
    run = functools.partial(core_for(ctx).search, limit=limit, mode=mode, filters=filters)
    if query != "-":
        hits = run(query)
        emit_json([h.as_json() for h in hits]) if as_json else _print_hits(hits)
        return
    failed = False
    for line in sys.stdin:
        try:
            hits = run(line) if line.strip() else []
        except OnrecordError as exc:
            click.echo(f"error: {line.strip()[:60]!r}: {exc}", err=True)
            hits, failed = [], True
        emit_json([h.as_json() for h in hits]) if as_json else _print_hits(hits)
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("interview", required=False)
@click.option("--topic", help="Instead: what each interview says about this topic.")
@click.option("--interview", "interviews", multiple=True, help="With --topic: only these interviews; repeatable.")
@click.option("--refresh", is_flag=True, help="Recompute instead of reusing the stored summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def summarize(ctx, interview, topic, interviews, refresh, as_json):
    """Topic-by-topic write-up of an interview, or (--topic) a topic across interviews."""
    from onrecord.search.retrieval.query import Filters

    if bool(interview) == bool(topic):
        raise OnrecordError("give an interview, or --topic TOPIC (not both)")
    core = core_for(ctx)
    if topic:
        result = core.compare(topic, Filters(interviews=tuple(interviews)))
    else:
        result = core.summarize(interview, refresh=refresh)
    if as_json:
        emit_json(result.as_json())
        return
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    _print_summary(result) if not topic else _print_across(result)


def _print_summary(summary) -> None:
    from onrecord.search.writeups.summary import format_range

    click.echo(f"{summary.title}" + ("" if summary.mode == "llm" else "  [extractive]"))
    click.echo(f"\n{summary.overview}\n")
    for t in summary.topics:
        if t.aside:  # intro, sponsor read, outro: shown, not written up
            click.echo(f"[{t.title}] ({format_range(t)})\n")
            continue
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


@click.command()
@click.argument("question")
@click.option("--interview", "interviews", multiple=True, help="Only this interview (id, prefix or title); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and its quotes as JSON.")
@click.pass_context
@handle_errors
def ask(ctx, question, interviews, as_json):
    """Answer a question from verbatim, timestamped quotes (extractive when no LLM is configured)."""
    from onrecord.search.retrieval.query import Filters

    answer = core_for(ctx).ask(question, Filters(interviews=tuple(interviews)))
    if as_json:
        emit_json(answer.as_json())
        return
    if answer.notice:
        click.echo(f"note: {answer.notice}", err=True)
    click.echo(("" if answer.mode == "llm" else "[extractive] ") + answer.answer + "\n")
    _print_quotes(answer.quotes)


@click.command()
@click.option("--port", type=int, help="Port (default: Streamlit's own setting, STREAMLIT_SERVER_PORT or 8501).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; beyond loopback "
              "(0.0.0.0) the app needs ONRECORD_APP_PASSWORD.")
@click.option("--open", "open_browser", is_flag=True, help="Open the app in the browser once it answers "
              "(where there is a desktop to open it on).")
@click.option("--json", "as_json", is_flag=True, help="Print the app's address as JSON before starting it.")
@click.pass_context
@handle_errors
def ui(ctx, port, host, open_browser, as_json):
    """Start the app (Streamlit) on this archive, until Ctrl-C."""
    from .browser import open_when_ready

    core = core_for(ctx)
    settings = core.settings
    core.archive()  # a missing archive is one line here, not an error page in the browser
    if not is_loopback(host) and not settings.app_password:
        raise OnrecordError(f"the app would listen on {host}, beyond this machine, with no password: set "
                            "ONRECORD_APP_PASSWORD (every visitor enters it), or keep --host 127.0.0.1")
    app = Path(__file__).resolve().parent / "app" / "serve.py"  # main.py's pages, and local media by URL
    # Headless: Streamlit then neither asks for an e-mail address on first run nor opens a browser itself;
    # minimal toolbar: no "Deploy" button or developer menu, which mean nothing to our users.
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
               "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
    if port:
        command += ["--server.port", str(port)]
    env = {**os.environ, "ONRECORD_APP_HOST": host}
    for key, value in ctx.obj.items():  # the app reads the same settings from the environment
        if value is not None:
            env[f"ONRECORD_{key.upper()}"] = str(value)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:" \
          f"{port or os.environ.get('STREAMLIT_SERVER_PORT', 8501)}"
    if as_json:
        emit_json({"url": url})
    if open_browser:
        open_when_ready(url)
    sys.stdout.flush()
    os.execve(sys.executable, command, env)  # become Streamlit: signals (Ctrl-C, a supervisor's TERM) reach it


def _print_hits(hits) -> None:
    if not hits:
        click.echo("no hits")
    for hit in hits:
        when = f"{format_timestamp(hit.start, millis=False)}-{format_timestamp(hit.end, millis=False)}"
        who = f" {hit.speaker}:" if hit.speaker else ""
        weak = "  (weak match)" if hit.weak else ""
        click.echo(f"{hit.title}  [{when}]{who} {hit.text}{weak}")
        if hit.link:
            click.echo(f"    {hit.link}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the tools (name, description, input schema) as JSON "
              "and exit, instead of serving them.")
@click.pass_context
@handle_errors(stopped="the MCP server")
def mcp(ctx, as_json):
    """Serve the archive to AI assistants over the Model Context Protocol (stdio) until the client closes it: the
    tools search, ask, list_interviews, get_transcript and summarize. Register it with a client as the command
    `onrecord --archive FOLDER mcp`."""
    from .mcp_server import build_server, serve, tool_list

    server = build_server(core_for(ctx))
    if as_json:
        emit_json(tool_list(server))
        return
    serve(server)
