"""`onrecord mcp`: the archive as a Model Context Protocol server over stdio, for AI assistants.

Five tools: search, ask, list_interviews, get_transcript and summarize. Each returns JSON an assistant can cite:
every quote carries its interview (id and title), speaker, start and end seconds, a timestamp and a deep link.
The protocol owns stdout; logs, and anything a library prints, go to stderr. The archive opens and the models load
on the first call that needs them, so a client's initialize and tools/list are answered at once."""

from __future__ import annotations

import functools
import io
import logging
import math
import os
import sys
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.types import ToolAnnotations
from pydantic import Field

from onrecord import Onrecord, __version__
from onrecord.search.errors import OnrecordError
from onrecord.search.links import deep_link
from onrecord.search.timefmt import format_timestamp, parse_timestamp

log = logging.getLogger("onrecord.mcp")
MAX_SEGMENTS = 400  # what one get_transcript call returns; `next_start` says where to go on
INSTRUCTIONS = (
    "onrecord is an archive of transcribed interviews, podcasts and talks. Every quote these tools return is "
    "verbatim from a stored transcript, with its interview, speaker, start/end seconds, timestamp and a link that "
    "opens the recording at that moment: cite them as given. Interviews are named by id, id prefix or title words.")
Seconds = float | str | None  # 754.5, "754.5" or "12:34.5"


@dataclass
class Resources:
    """The core, whose archive and models are built on the first call that needs them (a part that fails to
    build is tried again on the next call) and kept for the server's life. One call runs at a time (`lock`): the
    searcher's caches and Chroma's client are not shared between calls."""

    core: Onrecord
    lock: threading.Lock = field(default_factory=threading.Lock)


def _tool(fn):
    """Run a tool in a worker thread (the protocol keeps answering meanwhile), one call at a time; a domain error
    becomes the call's error result with its one-line message."""

    @functools.wraps(fn)
    async def run(*args, ctx: Context, **kwargs) -> dict[str, Any]:
        def call():
            with _resources(ctx).lock:
                return fn(*args, ctx=ctx, **kwargs)

        try:
            return await anyio.to_thread.run_sync(call)
        except OnrecordError as exc:
            raise ToolError(str(exc)) from None
        except Exception:
            log.exception("%s failed", fn.__name__)
            raise

    return run


def _resources(ctx: Context) -> Resources:
    return ctx.request_context.lifespan_context


def _core(ctx: Context) -> Onrecord:
    return _resources(ctx).core


def _cite(item: dict) -> dict:
    """A hit, quote or topic as JSON with its start as text too ("12:34"), the way an assistant cites it."""
    return item | {"timestamp": format_timestamp(item["start"], millis=False)}


def search(query: Annotated[str, Field(description="What to look for: words, a phrase in quotes, or a question.")],
           limit: Annotated[int, Field(ge=1, le=100, description="How many hits to return.")] = 10,
           interview: Annotated[str | None, Field(description="Only this interview (id, id prefix or title).")] = None,
           speaker: Annotated[str | None, Field(description="Only what this speaker said.")] = None,
           *, ctx: Context) -> dict[str, Any]:
    """Search what was said across the archive, by keyword and by meaning. Each hit is a verbatim passage of one
    speaker: interview_id, title, speaker, start/end seconds, timestamp, link (opens the recording there), text,
    the sentences around it (context_before/after) and a score. Weak hits were found by meaning alone."""
    from onrecord.search.retrieval.query import Filters

    filters = Filters(interviews=(interview,) if interview else (), speaker=speaker)
    hits = _core(ctx).search(query, limit=limit, filters=filters)
    return {"query": query, "hits": [_cite(h.as_json()) for h in hits]}


def ask(question: Annotated[str, Field(description="A question about what was said.")],
        interview: Annotated[str | None, Field(description="Only this interview (id, id prefix or title).")] = None,
        *, ctx: Context) -> dict[str, Any]:
    """Answer a question from the archive. The answer cites quotes verified word for word against the transcripts,
    each with interview_id, title, speaker, start/end seconds, timestamp and link. mode is "llm" when a language
    model wrote the answer, "extractive" when the answer is the best passages themselves (notice says why)."""
    from onrecord.search.retrieval.query import Filters

    answer = _core(ctx).ask(question, Filters(interviews=(interview,) if interview else ()))
    data = answer.as_json()
    return data | {"quotes": [_cite(q) for q in data["quotes"]]}


def list_interviews(*, ctx: Context) -> dict[str, Any]:
    """The interviews in the archive: id, title, date (when recorded, if known), speakers, duration in seconds,
    language, and how it was added (kind, source, media)."""
    interviews = [i.as_json() | {"length": format_timestamp(i.duration, millis=False)}
                  for i in _core(ctx).interviews()]
    return {"interviews": interviews}


def get_transcript(interview: Annotated[str, Field(description="The interview: id, id prefix or title.")],
                   start: Annotated[Seconds, Field(description="From here: seconds or a timestamp like 12:34; "
                                                   "the beginning when omitted.")] = None,
                   end: Annotated[Seconds, Field(description="Up to here: seconds or a timestamp like 1:02:03; "
                                                 "the end when omitted.")] = None,
                   *, ctx: Context) -> dict[str, Any]:
    """The transcript of one interview, or of a time range of it: the segments (speaker, start/end seconds,
    timestamp, text, link) that overlap the range, in order. At most 400 segments: when there are more,
    next_start is where the next call should start."""
    found, transcript = _core(ctx).transcript(interview)
    lo, hi = _seconds("start", start, 0.0), _seconds("end", end, math.inf)
    if hi <= lo:
        raise OnrecordError(f"end ({end}) must come after start ({start})")
    if lo >= found.duration:
        raise OnrecordError(f"start ({start}) is past the end of {found.title} "
                            f"({format_timestamp(found.duration, millis=False)} long)")
    segments, next_start = [], None
    for s in transcript:
        if s.start >= hi:
            break
        if s.end <= lo and s.start < lo:
            continue
        if len(segments) == MAX_SEGMENTS:
            next_start = s.start
            break
        segments.append(_cite({"speaker": s.speaker, "start": s.start, "end": s.end, "text": s.text,
                               "link": deep_link(found.media, s.start)}))
    return {"interview_id": found.id, "title": found.title, "start": lo, "end": min(hi, found.duration),
            "segments": segments, "next_start": next_start}


def _seconds(name: str, value: Seconds, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value) if not isinstance(value, str) or ":" not in value else parse_timestamp(value)
    except ValueError:
        raise OnrecordError(f"{name}: {value!r} is neither seconds nor a timestamp like 12:34") from None


def summarize(interview: Annotated[str, Field(description="The interview: id, id prefix or title.")],
              *, ctx: Context) -> dict[str, Any]:
    """A topic-by-topic write-up of one interview: an overview, then each topic's title, start/end, summary and
    verbatim quotes (interview_id, title, speaker, start/end seconds, timestamp, link). The stored write-up is
    returned when there is one; writing a new one takes a while for a long interview. Topics of kind intro,
    sponsor or outro are set aside, not written up."""
    data = _core(ctx).summarize(interview).as_json()
    topics = [_cite(t) | {"quotes": [_cite(q) for q in t["quotes"]]} for t in data["topics"]]
    return data | {"topics": topics}


TOOLS = (search, ask, list_interviews, get_transcript, summarize)


def build_server(core: Onrecord) -> FastMCP:
    """The server, with nothing opened or loaded yet."""

    @asynccontextmanager
    async def lifespan(_server):
        yield Resources(core)

    _log_to_stderr()
    server = FastMCP("onrecord", instructions=INSTRUCTIONS, lifespan=lifespan, log_level="WARNING")
    server._mcp_server.version = __version__  # what initialize reports: onrecord's version, not the SDK's
    for fn in TOOLS:
        server.add_tool(_tool(fn), name=fn.__name__, description=_doc(fn), structured_output=True,
                        annotations=ToolAnnotations(readOnlyHint=True))  # summarize keeps its write-up: a cache
    return server


def _log_to_stderr() -> None:
    """Warnings and errors, one line each, on stderr, where MCP clients show a server's log. Set before FastMCP
    sets up its own (which would let libraries that log at DEBUG, like bm25s, through)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("onrecord mcp: %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _doc(fn) -> str:
    return " ".join((fn.__doc__ or "").split())


def tool_list(server: FastMCP) -> list[dict]:
    """The tools as a client's tools/list sees them."""
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in anyio.run(server.list_tools)]


def serve(server: FastMCP) -> None:
    """Speak the protocol on stdout until the client closes stdin. Everything else that writes to stdout, a
    library's print or a C extension's, writes to stderr instead: the protocol keeps a copy of stdout of its own."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    out = anyio.wrap_file(io.TextIOWrapper(protocol, encoding="utf-8"))
    anyio.run(_serve, server, out)


async def _serve(server: FastMCP, out) -> None:
    async with stdio_server(stdout=out) as (read, write):
        lowlevel = server._mcp_server  # FastMCP.run_stdio_async, with our stdout (the SDK has no parameter for it)
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
