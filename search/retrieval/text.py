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


# Function words (the NLTK English list, less negations, which carry meaning in what people say).
STOPWORDS = frozenset("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom
this that that'll these those am is are was were be been being have has had having do does did doing a an
the and but if or because as until while of at by for with about against between into through during before
after above below to from up down in out on off over under again further then once here there when where why
how all any both each few more most other some such only own same so than too very s t can will just don
should should've now d ll m o re ve y ma
""".split())


def stopwords() -> frozenset[str]:
    return STOPWORDS


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


def ends_in_question(text: str, trailing_words: int = 15) -> bool:
    """A passage that ends in a question, or in a question and a few words more ("Where does the soil come
    from? You can't dig on a roof."): in an interview, what follows it is the answer."""
    return "?" in text and len(text.rsplit("?", 1)[1].split()) <= trailing_words


def contains_phrase(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {normalized(text)} "


# Talk is full of words that carry no topic; key phrases skip these on top of the search stopwords.
FILLER = frozenset("""
you your yours i me my we our us he him his she her it its they their what that's yeah yes know like just
really think going thing things actually right well kind sort mean lot
also okay people would could should much many very there here about because then them they when where which
who whom your you're we're it's don't i'm i've you've that've can't didn't doesn't isn't wasn't there's
let's gonna want wanted make made maybe something someone somebody anything everything stuff way ways
pretty little good great sure yeah totally exactly probably basically definitely course guess said since
say says saying talk talking tell told come comes came goes went look looking looked able need needs
""".split())
