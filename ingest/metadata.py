"""An interview's title and recording date, from what a source says about itself.

Titles: the feed's or the media's own title when there is one, else the file name as it is, less the content-hash
prefix the app gives uploads ("692502244f-kennedy-1961-inaugural" -> "kennedy-1961-inaugural"). Dates
(YYYY-MM-DD): from the feed or the media tags, else a date in the file name ("2020-07-23", "20200723",
"2020_07_23"), else what the transcript says in its header or its opening ("recorded on July 23rd, 2020").
Month names are dateutil's; nothing here guesses at day-first or month-first numeric dates like 07/08/2020."""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from onrecord.search.models import Segment

OPENING_SECONDS = 120.0  # where a recording date is said, if anywhere: "this episode was recorded on…"

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{10}-(?=.)")  # core/uploads.py: `<10 hex of sha256>-<safe name>`
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_.]?)(\d{2})\2(\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH_FIRST = re.compile(rf"\b([A-Za-z]{{3,9}})\.?\s+{_ORDINAL},?\s+(\d{{4}})\b")  # July 23rd, 2020
_DAY_FIRST = re.compile(rf"\b{_ORDINAL}\s+(?:of\s+)?([A-Za-z]{{3,9}})\.?,?\s+(\d{{4}})\b")  # 23rd of July 2020
_RECORDED = re.compile(r"\b(?:recorded|taped|filmed)\b[^.!?]{0,60}", re.IGNORECASE)  # the phrase and what follows
_HEADER_FIELD = re.compile(r"^\s*(?:NOTE\s+)?([A-Za-z][A-Za-z ]{0,20}?)\s*:\s*(.+?)\s*$")
_DATE_KEYS = frozenset({"date", "recorded", "recorded on", "recording date", "recording"})


def clean_title(name: str) -> str:
    """A file name's stem as a title: kept as it is, less an upload's content-hash prefix. Never empty."""
    stripped = _UPLOAD_PREFIX.sub("", name.strip())
    return stripped.strip() or name.strip() or "untitled"


def date_in_name(name: str) -> str | None:
    """A full date written in a file name or URL: 2020-07-23, 20200723, 2020_07_23, 2020.07.23."""
    for match in _NAME_DATE.finditer(_UPLOAD_PREFIX.sub("", name)):
        found = _valid(match.group(1), match.group(3), match.group(4))
        if found:
            return found
    return None


def parse_date(text: str) -> str | None:
    """The first full date in `text`, as YYYY-MM-DD: ISO, "July 23rd, 2020", "23 July 2020", "23rd of July, 2020"."""
    from dateutil.parser import parserinfo

    months = parserinfo()
    found: list[tuple[int, str]] = []
    for match in _ISO_DATE.finditer(text):
        day = _valid(match.group(1), match.group(2), match.group(3))
        if day:
            found.append((match.start(), day))
    for pattern, month_at, day_at in ((_MONTH_FIRST, 1, 2), (_DAY_FIRST, 2, 1)):
        for match in pattern.finditer(text):
            month = months.month(match.group(month_at))
            day = _valid(match.group(3), str(month), match.group(day_at)) if month else None
            if day:
                found.append((match.start(), day))
    return min(found)[1] if found else None


def recorded_date(text: str) -> str | None:
    """The date in a phrase like "recorded on July 23rd, 2020" or "taped 2020-07-23"; a date alone is not
    enough (an interview mentions many dates; only this phrase says when it was made)."""
    for match in _RECORDED.finditer(text):
        found = parse_date(match.group(0))
        if found:
            return found
    return None


def opening_date(segments: Iterable[Segment]) -> str | None:
    """A recording date said in the first OPENING_SECONDS."""
    return recorded_date(" ".join(s.text for s in segments if s.start < OPENING_SECONDS))


def header_details(lines: list[str]) -> tuple[str | None, str | None]:
    """(title, date) from the header lines of a caption file: `Title: …` / `Date: …` fields (alone or after
    NOTE), or a sentence saying when it was recorded."""
    title = date_ = None
    for line in lines:
        field = _HEADER_FIELD.match(line)
        key = " ".join(field.group(1).lower().split()) if field else ""
        if key == "title" and title is None:
            title = " ".join(field.group(2).split()) or None
        elif key in _DATE_KEYS and date_ is None:
            date_ = parse_date(field.group(2))
    return title, date_ or recorded_date(" ".join(lines))


def _valid(year: str, month: str, day: str) -> str | None:
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return found.isoformat() if 1800 <= found.year <= 2200 else None
