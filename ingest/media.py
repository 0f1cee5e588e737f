"""What PyAV can tell about a media file before it is transcribed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration: float | None  # what the container declares; None when it does not say
    title: str | None
    date: str | None  # YYYY-MM-DD


class MediaError(ValueError):
    """The file is not media onrecord can transcribe; the message says why."""


def probe(path: Path) -> MediaInfo:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise MediaError("has no audio track")
            tags = {k.lower(): v for k, v in (container.metadata or {}).items()}
            duration = container.duration / 1_000_000 if container.duration else None
            return MediaInfo(duration=duration, title=(tags.get("title") or "").strip() or None,
                             date=_date(tags.get("date") or tags.get("creation_time")))
    except av.error.FFmpegError as exc:
        raise MediaError(f"not a media file onrecord can decode ({exc.strerror or exc})") from exc


def _date(value: str | None) -> str | None:
    if not value or len(value) < 10 or value[4] != "-":
        return None
    return value[:10]
