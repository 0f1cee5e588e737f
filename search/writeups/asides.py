"""What is not the conversation: sponsor reads, the show's intro and its outro.

They are found by what they say: ads announce themselves ("brought to you by", "use the code", a web address,
"thanks to X for supporting the show") and intros and outros are the host's boilerplate ("welcome to…", "this
is your host", "thanks for listening"). A sponsor read runs from its announcement while the sentences keep
sounding like an ad; the intro runs from the start to its last boilerplate sentence (and the end of that turn:
"Thanks for having me. I have studied the sea…"); the outro from the first closing words near the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..retrieval.embedder import Embedder
from .sentences import Sentence

SPONSOR_START = re.compile(
    r"\b(brought to you by|sponsored by|(this|today'?s) (episode|show|portion)[^.]{0,60}\b(sponsor|brought)|"
    r"word from (our|this week'?s|today'?s) sponsors?|(thanks?|thank you) to our sponsors?|our sponsor|"
    r"(partially |proudly )?supported by)\b", re.I)
AD_COPY = re.compile(
    r"(\b(use|enter|with) (the )?(promo |coupon |discount )?code\b|\bpromo code\b|\bfree trial\b|\bsign up\b|"
    r"\bdiscount\b|\b\d+ ?% off\b|\bpercent off\b|\bvisit\b|\bcheck (them|it) out\b|\bsupport(s|ing)? the show\b|"
    r"\b(for|in) (sponsoring|supporting)\b|\bdot (com|io|fm|org)\b|\b[a-z0-9-]+\.(com|io|fm|org|dev|ai)\b|"
    r"\bfirst (pair|month|order|year)\b|\bsponsor)", re.I)
AD_END = re.compile(r"\b(thanks?|thank you) (to )?\S+( \S+){0,3} for (sponsoring|supporting)\b", re.I)
INTRO = re.compile(
    r"\b(welcome (back )?to|this is your host|i'?m your host|i am your host|your host\b|episode (number )?\d+|"
    r"recorded (on )?\w+ \d|follow (me|us|the show)|subscribe|in this episode|on this episode|"
    r"my guest(s)? (today )?(is|are)|today'?s guest|joining (me|us) (today|now)|welcome to the show|"
    r"thanks? (you )?for having me|(great|glad|happy|good) to (be here|have you)|it'?s (a pleasure|great) to be)",
    re.I)
OUTRO = re.compile(
    r"\b(thanks? (you )?(so much )?for (listening|being (on|here)|coming on|joining)|that'?s (all|it) for|"
    r"(that is|that's it) all for|this has been (another )?(episode|show)|see you next (week|time)|"
    r"until next time|thanks for tuning in|(signing|sign) off|catch you next)", re.I)
AD_MAX_SECONDS = 150.0
TALK_CONTEXT = 20  # sentences of conversation an ad is told apart from
# What ad copy sounds like, whatever it sells.
AD_EXAMPLES = (
    "This episode is brought to you by our sponsor.",
    "Sign up today and get your first month free.",
    "Visit their website and use the promo code for a discount.",
    "They make it simple and affordable to deploy and scale your applications.",
    "Try it free, no credit card required.",
    "Thank you to our sponsor for supporting the show.",
    "Check out our online courses and level up your skills.",
    "Join thousands of teams who already rely on it every day.",
)
EDGE_SHARE = 0.2  # the intro lies in the first fifth, the outro in the last...
EDGE_SECONDS = 300.0  # ...and no further than five minutes in from either end


@dataclass(frozen=True, slots=True)
class Aside:
    kind: str  # "intro" | "sponsor" | "outro"
    first: int  # sentence indices, inclusive
    last: int


def find_asides(sentences: Sequence[Sentence], embedder: Embedder | None = None) -> list[Aside]:
    """The intro, every sponsor read and the outro, in time order, never overlapping (an ad read inside the
    intro splits it: intro, sponsor, intro)."""
    if not sentences:
        return []
    kinds: list[str | None] = [None] * len(sentences)
    for read in _sponsor_reads(sentences, embedder):
        kinds[read.first:read.last + 1] = ["sponsor"] * (read.last - read.first + 1)
    for edge in (_intro(sentences), _outro(sentences)):
        if edge is not None:
            for i in range(edge.first, edge.last + 1):
                kinds[i] = kinds[i] or edge.kind
    asides: list[Aside] = []
    for i, kind in enumerate(kinds):
        if kind is None:
            continue
        if asides and asides[-1].kind == kind and asides[-1].last == i - 1:
            asides[-1] = Aside(kind, asides[-1].first, i)
        else:
            asides.append(Aside(kind, i, i))
    return asides


def _sponsor_reads(sentences: Sequence[Sentence], embedder: Embedder | None) -> list[Aside]:
    """Reads that announce themselves ("brought to you by…") run forward from the announcement; reads that
    start straight into the pitch are found backwards from their sign-off ("thanks to X for sponsoring")."""
    reads: list[Aside] = []
    i = 0
    while i < len(sentences):
        if SPONSOR_START.search(sentences[i].text):
            window = [j for j in range(i + 1, len(sentences))
                      if sentences[j].start - sentences[i].start <= AD_MAX_SECONDS]
            # An announcement and a sign-off within reach bracket the read, however technical its copy sounds.
            signed = next((j for j in window if AD_END.search(sentences[j].text)), None)
            last = signed if signed is not None else _extent(sentences, i, window, embedder)
            reads.append(Aside("sponsor", i, last))
            i = last + 1
        elif AD_END.search(sentences[i].text):
            window = [j for j in range(i - 1, -1, -1) if sentences[i].end - sentences[j].start <= AD_MAX_SECONDS
                      and (not reads or j > reads[-1].last)]
            reads.append(Aside("sponsor", _extent(sentences, i, window, embedder), i))
            i += 1
        else:
            i += 1
    merged: list[Aside] = []
    for read in reads:  # two sponsors read back to back are one break
        if merged and read.first - merged[-1].last <= 1:
            merged[-1] = Aside("sponsor", merged[-1].first, max(read.last, merged[-1].last))
        else:
            merged.append(read)
    return merged


def _extent(sentences: Sequence[Sentence], anchor: int, window: list[int], embedder: Embedder | None) -> int:
    """How far a read reaches from its anchor along `window` (forward or backward): to the point where the most
    sentences so far sound like an ad and the fewest do not, stopping at a sign-off."""
    like_ad = _like_ad(sentences, anchor, window, embedder)
    best, score, reach = 0, 0, anchor
    for j in window:
        score += 1 if like_ad[j] else -1
        if like_ad[j] and score >= best:  # an ad sentence that wins back one that was not extends the read
            best, reach = score, j
        if window[0] > anchor and AD_END.search(sentences[j].text):
            break
    return reach


def _like_ad(sentences: Sequence[Sentence], start: int, window: list[int], embedder: Embedder | None) -> dict:
    """Which sentences of the window beside an ad's announcement (or sign-off) are ad copy: its words give some
    away; the rest are judged by whether they are nearer (in meaning) to ad copy or to the conversation."""
    verdict = {j: bool(AD_COPY.search(sentences[j].text) or SPONSOR_START.search(sentences[j].text)
                       or AD_END.search(sentences[j].text)) for j in window}
    if embedder is None or not window:
        return verdict
    before = list(range(max(0, start - TALK_CONTEXT), start))
    after = list(range(start + 1, min(len(sentences), start + 1 + TALK_CONTEXT)))
    if window[0] > start:  # reading forward from an announcement: the conversation it interrupted is before it
        talk = before or list(range(window[-1] + 1, min(len(sentences), window[-1] + 1 + TALK_CONTEXT)))
    else:  # reading backward from a sign-off: the conversation resumes after it
        talk = after
    if not talk:
        return verdict
    texts = [sentences[j].text for j in window] + [sentences[k].text for k in talk] + \
        [sentences[start].text] + list(AD_EXAMPLES)
    v = np.asarray(embedder.embed(texts), dtype=np.float32)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    here, conversation, ads = v[:len(window)], v[len(window):len(window) + len(talk)], v[len(window) + len(talk):]
    ad_side = here @ _unit(ads.mean(axis=0))
    talk_side = here @ _unit(conversation.mean(axis=0))
    return {j: verdict[j] or bool(a > t) for j, a, t in zip(window, ad_side, talk_side)}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _edge(sentences: Sequence[Sentence]) -> float:
    duration = sentences[-1].end - sentences[0].start
    return min(EDGE_SECONDS, EDGE_SHARE * duration)


def _intro(sentences: Sequence[Sentence]) -> Aside | None:
    horizon = sentences[0].start + _edge(sentences)
    marks = [i for i, s in enumerate(sentences) if s.start <= horizon and INTRO.search(s.text)]
    if not marks:
        return None
    last = marks[-1]
    while last + 1 < len(sentences) and sentences[last].speaker is not None \
            and sentences[last + 1].turn == sentences[last].turn:
        last += 1  # "Thanks for having me." and the rest of that turn: the guest settling in
    return Aside("intro", 0, last)


def _outro(sentences: Sequence[Sentence]) -> Aside | None:
    horizon = sentences[-1].end - _edge(sentences)
    marks = [i for i, s in enumerate(sentences) if s.end >= horizon and OUTRO.search(s.text)]
    if not marks:
        return None
    first = marks[0]
    while first > 0 and sentences[first].speaker is not None and sentences[first - 1].turn == sentences[first].turn:
        first -= 1  # "Anna, thank you for joining us.": the whole closing turn
    return Aside("outro", first, len(sentences) - 1)
