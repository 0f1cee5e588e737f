"""Transcript and LLM text inside Markdown, as text: it reads as written and never becomes a link, an image or
HTML, whichever renderer shows it (GitHub's cmark-gfm for an exported .md, remark-gfm in the Streamlit app)."""

from __future__ import annotations

import html
import re

# Inline syntax, backslash-escaped: CommonMark's emphasis, code, links and images (`[`), headings, GFM tables and
# strikethrough, and `$` (math on GitHub and in Streamlit). `<`, `>` and `&` are entities instead (html.escape).
_SYNTAX = re.compile(r"([\\`*_\[\]#|~$])")

# GFM links bare URLs, www. names and e-mail addresses with no markup at all, and remark-gfm looks for them in
# the text after backslashes and entities are resolved, so neither stops it: only other text does. These are the
# usual "defanged" spellings, still readable: https[:]//host, www[.]host, name[@]host.
_BARE_LINKS = (
    (re.compile(r"://"), "[:]//"),
    (re.compile(r"(?<![a-z0-9])(www)\.", re.IGNORECASE), r"\1[.]"),
    (re.compile(r"(?<=[-.\w+])@(?=[-\w]+\.[-\w])"), "[@]"),
)

# What opens a block at the start of a line: a list item ("- ", "+ ", "1986. ") or a thematic break ("---"). The
# backslash goes where the match ends: before the "-" or "+", after the digits.
_LIST_MARK = re.compile(r"^(?:\d+(?=[.)])|(?=[-+]))")


def defang(text: str) -> str:
    """Break what GFM would turn into a link by itself (https://…, www.…, name@host.tld)."""
    for pattern, spelled in _BARE_LINKS:
        text = pattern.sub(spelled, text)
    return text


def markdown_text(text: str) -> str:
    """`text` for st.markdown or a .md file, shown as it reads: HTML special characters as entities, Markdown's
    syntax backslash-escaped, bare links broken. Apostrophes, periods and commas stay as they are."""
    return _SYNTAX.sub(r"\\\1", html.escape(defang(text), quote=False))


def markdown_line(text: str) -> str:
    """`text` as one line of a Markdown file: a field fills one block (a heading, a list item, a quote), so its
    line breaks go."""
    return markdown_text(" ".join(text.split()))


def markdown_paragraph(text: str) -> str:
    """`text` as a paragraph of its own: also nothing at the start of its line may open a list or a rule."""
    return _LIST_MARK.sub(lambda m: m.group(0) + "\\", markdown_line(text), count=1)
