"""A search query, parsed once: free text, exact phrases, stems, fuzzy expansions for misheard names, filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import OnrecordError
from .text import split_phrases, stems, stopwords, words

MAX_QUERY_CHARS = 2000
MODES = ("hybrid", "semantic", "keyword")
# Words that frame a question about an interview rather than say what it is about: "what does the guest say
# about pests" is about pests, and "My guest today is…" is no answer to it. Dropped when other words remain.
SCAFFOLDING = frozenset("""
guest guests host hosts interviewer interviewee speaker speakers episode episodes podcast show interview
say says said saying talk talks talked talking mention mentions mentioned mentioning discuss discusses
discussed discussing think thinks thought opinion opinions view views explain explains explained describe
describes described tell tells told claim claims claimed according
""".split())


@dataclass(frozen=True, slots=True)
class Filters:
    interviews: tuple[str, ...] = ()  # ids, unique id prefixes or exact titles
    speaker: str | None = None
    since: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    until: str | None = None


@dataclass(slots=True)
class Query:
    text: str  # what the embedder sees
    words: list[str]
    terms: list[str]  # stems for BM25
    phrases: list[str]  # normalized exact phrases; all must match in keyword mode
    fuzzy_terms: list[str] = field(default_factory=list)  # stems of same-sounding vocabulary words
    fuzzy_phrases: list[str] = field(default_factory=list)  # "gross john" for "grosjean"
    languages: tuple[str | None, ...] = ("en",)  # what its words were stemmed in: the archive's languages
    weights: dict[str, float] = field(default_factory=dict)  # stem -> how rare it is in the archive (idf)

    def weight(self, term: str) -> float:
        return self.weights.get(term, 1.0)

    @property
    def all_terms(self) -> set[str]:
        return set(self.terms) | set(self.fuzzy_terms)


def parse_query(raw: str, languages: tuple[str | None, ...] = ("en",)) -> Query:
    text = " ".join((raw or "").split())
    if not text:
        raise OnrecordError("empty query")
    if len(text) > MAX_QUERY_CHARS:
        raise OnrecordError(f"query too long ({len(text)} characters; the limit is {MAX_QUERY_CHARS})")
    phrases, free = split_phrases(text)
    found = words(free)
    if not found:
        raise OnrecordError("the query has no words to search for")
    about = [w for w in found if w not in SCAFFOLDING]
    terms = stems(about, languages) or stems(found, languages)
    return Query(text=free.strip(), words=found, terms=terms, phrases=phrases, languages=languages)


def day_bound(value: str | None, *, end: bool) -> int | None:
    """'2024' -> 20240101 (or 20241231 as an end), '2024-03' -> 20240301, '2024-03-09' -> 20240309."""
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
    if not match or (match.group(3) and not match.group(2)):
        raise OnrecordError(f"bad date {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.group(1), match.group(2), match.group(3)
    month = month or ("12" if end else "01")
    day = day or ("31" if end else "01")
    return int(f"{year}{month}{day}")


def expand_fuzzy(query: Query, vocabulary: dict, sounds: dict[str, list[str]], stem_of: dict[str, str]) -> None:
    """Misheard names, cheaply: for a query word the archive never contains, add vocabulary words that sound
    the same (metaphone, same first letter: 'kubernetis' -> 'kubernetes'), and adjacent word pairs that
    together sound like it ('grosjean' -> 'gross john'), which must then appear as a phrase."""
    import jellyfish

    stop = stopwords()
    for word in query.words:
        if len(word) < 5 or not word.isalpha() or word in stop or stem_of.get(word, word) in vocabulary:
            continue
        alike = [w for w in sounds.get(jellyfish.metaphone(word), []) if w[0] == word[0]]
        query.fuzzy_terms.extend(stem_of[w] for w in alike[:5])
        for cut in range(3, len(word) - 2):  # both halves at least three letters
            left, right = word[:cut], word[cut:]
            lefts = [w for w in sounds.get(jellyfish.metaphone(left), []) if w[0] == left[0]][:3]
            rights = [w for w in sounds.get(jellyfish.metaphone(right), []) if w[0] == right[0]][:3]
            query.fuzzy_phrases.extend(f"{a} {b}" for a in lefts for b in rights)
    query.fuzzy_phrases = list(dict.fromkeys(query.fuzzy_phrases))[:4]
