"""Words, stems and phrases: the one tokenizer shared by the keyword index, phrase checks and highlighting."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_PHRASE = re.compile(r'"([^"]+)"')


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def stems(words_: list[str]) -> list[str]:
    """Stems of the non-stopwords, in order."""
    stop = stopwords()
    return _stemmer().stemWords([w for w in words_ if w not in stop])


def stem_map(unique_words: set[str]) -> dict[str, str]:
    """Stem a vocabulary once; a corpus has far fewer distinct words than tokens."""
    ordered = sorted(unique_words)
    return dict(zip(ordered, _stemmer().stemWords(ordered)))


def terms(text: str) -> list[str]:
    return stems(words(text))


def normalized(text: str) -> str:
    """Lowercase words joined by single spaces: what phrase matching compares."""
    return " ".join(words(text))


def split_phrases(query: str) -> tuple[list[str], str]:
    """`"exact phrase" other words` -> (["exact phrase"], 'exact phrase other words')."""
    phrases = [normalized(p) for p in _PHRASE.findall(query) if normalized(p)]
    return phrases, query.replace('"', " ")


def contains_phrase(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {normalized(text)} "
