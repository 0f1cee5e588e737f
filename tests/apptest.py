"""AppTest helpers shared by the app's test files: what a run shows, its players, an interview's id."""

from __future__ import annotations


def texts(at) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.caption, *at.title, *at.info, *at.warning,
                                             *at.error, *at.success])


def media(at) -> list:
    return [e for e in at.get("audio") + at.get("video")]


def id_of(at, title: str) -> str:
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    return next(i.id for i in open_archive(Settings()).list() if i.title == title)
