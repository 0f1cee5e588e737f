"""Who speaks in an interview: listing its speakers, and naming them.

A speaker has a label (diarization's "Speaker 2", or a caption's voice tag) and, once a user names it, a
name. Segments and chunks carry what is shown (the name, else the label), so every reader (search, quotes,
write-ups, exports, the app) shows names with no lookup; the interview record keeps label -> name."""

from __future__ import annotations

from typing import Iterable

from .archive import Archive
from ..errors import OnrecordError
from ..models import Interview, Segment, SpeakerInfo

FIRST_WORDS = 12


def speaker_table(interview: Interview, segments: Iterable[Segment]) -> list[SpeakerInfo]:
    """Each speaker in order of first appearance, with talk time, segment count and first words."""
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for s in segments:
        if not s.speaker:
            continue
        seconds[s.speaker] = seconds.get(s.speaker, 0.0) + max(0.0, s.end - s.start)
        counts[s.speaker] = counts.get(s.speaker, 0) + 1
        first.setdefault(s.speaker, " ".join(s.text.split()[:FIRST_WORDS]))
    rows = []
    for shown in first:
        label = interview.label_of(shown)
        rows.append(SpeakerInfo(label, interview.names.get(label), round(seconds[shown], 1), counts[shown],
                                first[shown], interview.recognised.get(label)))
    return rows


def rename(archive: Archive, interview: Interview, who: str, name: str) -> Interview:
    """Name the speaker `who` (its label or its current name, any case). Naming it by its own label
    removes the name: that is how a wrong name, typed or recognised, is undone."""
    name = " ".join(name.split())
    if not name:
        raise OnrecordError("the new name is empty")
    labels = {interview.label_of(s): s for s in interview.speakers}  # label -> what is shown now
    label = next((lb for lb, shown in labels.items() if who.strip().casefold() in (lb.casefold(), shown.casefold())),
                 None)
    if label is None:
        known = ", ".join(labels) or "none"
        raise OnrecordError(f"no speaker {who!r} in {interview.title} (its speakers: {known})")
    for other, shown in labels.items():
        if other != label and name.casefold() in (other.casefold(), shown.casefold()):
            raise OnrecordError(f"{name!r} is already a speaker of {interview.title}; pick another name")
    names = {lb: n for lb, n in interview.names.items() if lb != label}
    if name != label:
        names[label] = name
    recognised = {lb: s for lb, s in interview.recognised.items() if lb != label}  # a person's word now
    renamed = archive.rename_speaker(interview, labels[label], names.get(label, label), names, recognised)
    archive.name_voice(interview.id, label, names.get(label))  # later recordings of this voice get the name
    return renamed
