"""Transcript and LLM text in what renders (the Markdown export, the app's st.markdown) reads as text: no live
HTML, no links, no images, whatever a caption file or a model wrote."""

from __future__ import annotations

import html
import importlib.util
import re

import pytest
from markdown_it import MarkdownIt

from conftest import json_lines, run_cli
from onrecord.search.export import export
from onrecord.search.models import Interview, Quote, Segment
from onrecord.search.writeups.summary import InterviewSummary, Topic
from onrecord.ui.app.widgets import escape, highlighted

HOSTILE = ["<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](http://evil.example/t.png)",
           "https://evil.example/path", "www.evil.example/w", "mole@evil.example", "<https://evil.example/auto>",
           "&lt;script&gt;alert(1)&lt;/script&gt;", ":red[styled] $x^2$ ~~gone~~"]
PROSE = "Hello, world. It's the harbour's quiet season; we'd sail at 6.30, didn't we?"
# The tags that Markdown's own blocks make; anything else (img, a, script…) came from the text.
BLOCK_TAGS = {"h1", "h2", "p", "ul", "li", "strong", "em", "blockquote"}
# GFM links these with no markup, after resolving escapes: remark-gfm's own patterns (in Streamlit's bundle).
BARE_URL = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)
BARE_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def rendered(markdown: str) -> tuple[str, str]:
    """The HTML a GFM-like renderer makes of `markdown` (linkify on where linkify-it is installed), and its text
    as a reader sees it."""
    linkify = importlib.util.find_spec("linkify_it") is not None
    out = MarkdownIt("gfm-like", options_update={"linkify": linkify}).render(markdown)
    return out, html.unescape(re.sub(r"<[^>]*>", " ", out))


def live_markup(markdown: str) -> list[str]:
    """What in the rendered `markdown` is not text: tags beyond the blocks', and bare links GFM would make."""
    out, text = rendered(markdown)
    tags = {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", out)} - BLOCK_TAGS
    return sorted(tags) + BARE_URL.findall(text) + BARE_EMAIL.findall(text)


# -- the Markdown export, of an interview ingested from a hostile caption file with the real CLI ---------------

@pytest.fixture
def hostile_export(tmp_path) -> str:
    cues = [PROSE, "&lt;img src=x onerror=alert(1)&gt; was in the caption", "[click](javascript:alert(1)) here",
            "![x](http://evil.example/t.png) and a tracking pixel", "# not a heading: https://evil.example/path",
            "1986. www.evil.example/w or mole@evil.example"]
    body = "".join(f"00:00:{n * 4:02d}.000 --> 00:00:{n * 4 + 4:02d}.000\n{cue}\n\n" for n, cue in enumerate(cues))
    path = tmp_path / "hostile.vtt"
    path.write_text("WEBVTT\n\n" + body)
    added = run_cli("ingest", str(path), "--json")
    assert added.returncode == 0, added.stderr
    done = run_cli("export", json_lines(added.stdout)[0]["interview_id"], "--format", "md")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_markdown_export_renders_a_hostile_transcript_as_text(hostile_export):
    assert live_markup(hostile_export) == [], hostile_export
    _, text = rendered(hostile_export)
    for shown in ("<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "https[:]//evil.example/path",
                  "1986. www[.]evil.example/w or mole[@]evil.example"):
        assert shown in text, "the reader sees what was said, as text"


def test_the_markdown_export_leaves_prose_readable(hostile_export):
    assert PROSE in hostile_export, "apostrophes, periods, commas and semicolons are not escaped"
    assert "] 1986. www" in hostile_export, "a number's period is escaped only where it could open a list"
    assert "\n# hostile\n" in "\n" + hostile_export and "## Transcript" in hostile_export


def test_a_write_up_from_a_model_is_text_in_the_markdown_export():
    interview = Interview("i1", "Ship <b>log</b> [x](http://evil.example)", "a.vtt", "transcript", None, 12.0, "en",
                          ("<i>Ann</i>",), 1, 1, "2024-01-01T00:00:00", date="2024-01-02")
    quote = Quote("i1", interview.title, 1.0, 2.0, "see https://evil.example/q", "<i>Ann</i>",
                  "https://media.example/a.mp3) ![x](http://evil.example/t.png")
    topic = Topic("![t](http://evil.example/t.png) Boats", 0.0, 12.0, "- Visit www.evil.example/x <script>x</script>",
                  [quote])
    summary = InterviewSummary("i1", interview.title, "llm", "1986. Read [this](http://evil.example) now.", [topic])
    segments = [Segment(0.0, 12.0, "[a](http://evil.example/s)", "<i>Ann</i>")]
    written = "".join(export(interview, segments, "md", summary))
    out, _ = rendered(written)
    links = re.findall(r'<a href="([^"]*)"', out)
    assert len(links) == 1 and links[0].startswith("https://media.example/a.mp3%29%20"), "only the quote's own link"
    assert [m for m in live_markup(written) if m != "a"] == [], written
    assert "<ol" not in out and out.count("<ul") == 1, "a model's text opens no list of its own; the facts stay one"


def test_vtt_export_escapes_cue_text():
    interview = Interview("i1", "t", "a.vtt", "transcript", None, 4.0, "en", ("A&B",), 1, 1, "2024-01-01T00:00:00")
    vtt = "".join(export(interview, [Segment(0.0, 4.0, "<c.x>1 < 2 --> 3 & 4</c>", "A&B")], "vtt"))
    assert "<v A&amp;B>&lt;c.x&gt;1 &lt; 2 --&gt; 3 &amp; 4&lt;/c&gt;\n" in vtt


# -- the app: widgets.escape before every st.markdown of transcript or model text -----------------------------

@pytest.mark.parametrize("hostile", HOSTILE)
def test_escaped_text_renders_as_text_in_the_app(hostile):
    escaped = escape(f"Answer: {hostile} — it's true.")
    assert live_markup(escaped) == [], escaped
    assert not re.search(r"(?<!\\)[\[\]$~*_`]", escaped), "no Streamlit :color[…], math, or emphasis either"
    assert "it's true." in rendered(escaped)[1]


def test_escaped_text_keeps_its_words_and_paragraphs():
    assert escape(PROSE) == PROSE
    assert rendered(escape("One.\n\nTwo."))[0].count("<p>") == 2


def test_highlighted_hits_mark_words_but_nothing_else():
    shown = highlighted("quiet <img src=x> near https://evil.example/lt &lt;", ("quiet", "lt", "evil"))
    assert live_markup(shown) == ["mark"], shown
    assert "&lt;" in shown and "&<mark>" not in shown, "a highlight never splits an entity"
