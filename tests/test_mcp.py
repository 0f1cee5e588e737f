"""`onrecord mcp` as an assistant's client sees it: the official MCP client talks to a real `onrecord mcp` process
over stdio, on a real archive of the committed sample transcripts."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import ROOT, SAMPLES, fresh_archive, run_cli

TOOLS = {"search": ({"query", "limit", "interview", "speaker"}, ["query"]),
         "ask": ({"question", "interview"}, ["question"]),
         "list_interviews": (set(), []),
         "get_transcript": ({"interview", "start", "end"}, ["interview"]),
         "summarize": ({"interview"}, ["interview"])}
QUOTE_KEYS = {"interview_id", "title", "speaker", "start", "end", "timestamp", "link", "text"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory, model_cache, chroma_url) -> str:
    """The two sample transcripts (no audio: quick to ingest), with their times and speakers known exactly."""
    where = str(fresh_archive(tmp_path_factory.mktemp("mcp") / "archive", chroma_url))
    done = run_cli("--archive", where, "ingest", str(SAMPLES / "transcripts"),
                   env={"XDG_CACHE_HOME": str(model_cache)})
    assert done.returncode == 0, done.stderr
    return where


@pytest.fixture(scope="module")
def transcripts(archive) -> dict[str, dict]:
    """Each interview's stored transcript, read from the archive in this process, by title."""
    from onrecord.search.config import Settings
    from onrecord.search.models import segment_to_json
    from onrecord.search.store import open_archive

    store = open_archive(Settings(archive=archive, chroma_url=None))
    return {i.title: {"interview": i.as_json(), "segments": [segment_to_json(s) for s in store.segments(i)]}
            for i in store.list()}


def talk(archive: str, tmp_path, script):
    """Start `onrecord --archive ARCHIVE mcp`, initialize, run `script(session)` and return what it returns.
    Fails if the server wrote anything to stdout that is not the protocol."""
    stray: list[Exception] = []

    async def on_message(message):
        if isinstance(message, Exception):  # a line on stdout the client could not read as JSON-RPC
            stray.append(message)

    async def main():
        server = StdioServerParameters(command=sys.executable, args=["-m", "onrecord.ui", "--archive", archive, "mcp"],
                                       env=dict(os.environ), cwd=str(ROOT))
        with open(tmp_path / "server-stderr.txt", "w") as errlog:
            async with (stdio_client(server, errlog=errlog) as (read, write),
                        ClientSession(read, write, message_handler=on_message) as session):
                await session.initialize()
                return await script(session)

    result = anyio.run(main)
    assert not stray, stray
    return result


async def call(session: ClientSession, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.isError, result.content[0].text
    assert json.loads(result.content[0].text) == result.structuredContent  # the same JSON, for any client
    return result.structuredContent


async def error(session: ClientSession, tool: str, **arguments) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.isError
    [message] = result.content
    assert "Traceback" not in message.text
    return message.text


def spoken_at(transcript: dict, quote: dict) -> list[dict]:
    """The stored segments a quote's times fall in."""
    return [s for s in transcript["segments"] if s["start"] < quote["end"] and s["end"] > quote["start"]]


def assert_verbatim(quote: dict, transcripts: dict) -> None:
    """The quote's words are the transcript's, at the quote's times, by the quote's speaker."""
    assert QUOTE_KEYS <= set(quote)
    transcript = transcripts[quote["title"]]
    assert quote["interview_id"] == transcript["interview"]["id"]
    there = spoken_at(transcript, quote)
    assert quote["text"] in " ".join(s["text"] for s in there), quote
    assert quote["speaker"] in {s["speaker"] for s in there}
    minutes, seconds = divmod(int(quote["start"]), 60)
    assert quote["timestamp"] == f"{minutes:02d}:{seconds:02d}"


def test_the_tools_are_listed_without_opening_the_archive(tmp_path):
    """initialize and tools/list answer at once: nothing is opened or loaded until a tool is called, so a server
    on a path with no archive starts, and says so, in one line, when a tool needs it."""
    missing = str(tmp_path / "no-archive-here")

    async def script(session):
        listed = await session.list_tools()
        return listed, await error(session, "list_interviews")

    listed, message = talk(missing, tmp_path, script)
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == set(TOOLS)
    for name, (arguments, required) in TOOLS.items():
        schema = tools[name].inputSchema
        assert set(schema["properties"]) == arguments and sorted(schema.get("required", [])) == sorted(required)
        assert tools[name].description and tools[name].outputSchema["type"] == "object"
    assert tools["search"].inputSchema["properties"]["limit"]["maximum"] == 100
    assert f"no archive at {missing}" in message and not os.path.exists(missing)
    printed = run_cli("--archive", missing, "mcp", "--json")
    assert printed.returncode == 0, printed.stderr
    assert {t["name"]: t["inputSchema"] for t in json.loads(printed.stdout)} == \
        {name: t.inputSchema for name, t in tools.items()}


def test_search_ask_and_summarize_quote_the_transcript_verbatim(archive, transcripts, tmp_path):
    async def script(session):
        return (await call(session, "search", query="tactics puzzles", limit=3),
                await call(session, "search", query="raised beds greenhouse", speaker="Dana Ortiz"),
                await call(session, "ask", question="What grows best on the roof?"),
                await call(session, "summarize", interview="chess"))

    chess, garden, answer, summary = talk(archive, tmp_path, script)
    top = chess["hits"][0]
    assert top["title"] == "chess-podcast" and "tactics puzzles" in top["text"] and top["speaker"] is None
    assert garden["hits"] and all(h["speaker"] == "Dana Ortiz" for h in garden["hits"])
    for hit in chess["hits"] + garden["hits"]:
        assert_verbatim(hit, transcripts)
        segments = spoken_at(transcripts[hit["title"]], hit)  # a hit is whole segments, with their times
        assert (hit["start"], hit["end"]) == (segments[0]["start"], segments[-1]["end"])
        assert {"score", "context_before", "context_after"} <= set(hit)
    assert answer["mode"] == "extractive" and answer["quotes"]
    assert any(q["speaker"] == "Dana Ortiz" and "Tomatoes" in q["text"] for q in answer["quotes"])
    quoted = [q for topic in summary["topics"] for q in topic["quotes"]]
    assert summary["title"] == "chess-podcast" and quoted
    for quote in answer["quotes"] + quoted:
        assert_verbatim(quote, transcripts)


def test_transcript_ranges_listing_and_errors(archive, transcripts, tmp_path):
    async def script(session):
        return (await call(session, "list_interviews"),
                await call(session, "get_transcript", interview="gardening", start=20, end="0:50"),
                await call(session, "get_transcript", interview="chess"),
                await error(session, "get_transcript", interview="no-such-interview"),
                await error(session, "get_transcript", interview="gardening", start="soon"),
                await error(session, "get_transcript", interview="gardening", start="10:00"),
                await error(session, "search", query="tomatoes", interview="no-such-interview"))

    listed, part, whole, unknown, bad_time, too_late, unknown_in_search = talk(archive, tmp_path, script)
    by_title = {i["title"]: i for i in listed["interviews"]}
    assert set(by_title) == {"chess-podcast", "gardening"}
    garden = by_title["gardening"]
    assert garden["speakers"] == ["Interviewer", "Dana Ortiz"] and garden["language"] == "en"
    assert garden["duration"] == transcripts["gardening"]["interview"]["duration"] and "date" in garden

    stored = transcripts["gardening"]["segments"]
    inside = [s for s in stored if s["end"] > 20 and s["start"] < 50]
    assert 1 < len(inside) < len(stored)
    assert [(s["speaker"], s["start"], s["end"], s["text"]) for s in part["segments"]] == \
        [(s["speaker"], s["start"], s["end"], s["text"]) for s in inside]
    assert (part["interview_id"], part["start"], part["end"]) == (garden["id"], 20, 50)
    assert [s["text"] for s in whole["segments"]] == [s["text"] for s in transcripts["chess-podcast"]["segments"]]
    assert whole["next_start"] is None

    assert "no interview matches 'no-such-interview'" in unknown
    assert "no interview matches 'no-such-interview'" in unknown_in_search
    assert "'soon' is neither seconds nor a timestamp" in bad_time
    assert "start (10:00) is past the end of gardening (01:55 long)" in too_late


def test_readme_registers_the_server_as_the_cli_spells_it():
    """The README's Claude Code command and Claude Desktop config both start `onrecord --archive FOLDER mcp`."""
    section = (ROOT / "README.md").read_text().split("### MCP server", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```")[1::2]
    claude_code = blocks[0].strip().split()
    assert claude_code[:4] == ["claude", "mcp", "add", "onrecord"] and claude_code[5:] == \
        ["onrecord", "--archive", claude_code[7], "mcp"]
    desktop = json.loads(blocks[1].removeprefix("json"))["mcpServers"]["onrecord"]
    assert desktop["command"].endswith("onrecord") and desktop["args"][::2] == ["--archive", "mcp"]
    for tool in TOOLS:
        assert f"`{tool}(" in section
