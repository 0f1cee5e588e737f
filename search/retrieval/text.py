"""Words, stems and phrases: the one tokenizer shared by the keyword index, phrase checks, quote verification
and highlighting.

Words are Unicode letters and digits in any script, case-folded, with the accents of Latin, Greek and Cyrillic
letters dropped, so "Sebastian Ramirez" and "Sebastián Ramírez" are the same words (and "café" stays "cafe",
not "caf"). Marks that are part of a letter in other scripts (Devanagari's vowel signs) are kept. Scripts
written without spaces (Chinese, Japanese, Thai) come out as runs, not words: they are not split further.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’][\p{L}\p{M}\p{N}]+)?")
_PHRASE = regex.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|„([^“”]+)[“”]')
_ACCENTED_BELOW = 0x0530  # accents are dropped from letters before Armenian: Latin, Greek, Cyrillic


def fold(word: str) -> str:
    """Case-folded, without the accents of Latin, Greek and Cyrillic letters."""
    if word.isascii():
        return word.lower()
    kept, base = [], 0
    for ch in unicodedata.normalize("NFKD", word.casefold().replace("’", "'")):
        if unicodedata.combining(ch):
            if base >= _ACCENTED_BELOW:
                kept.append(ch)
        else:
            base = ord(ch)
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def words(text: str) -> list[str]:
    if text.isascii():
        return _WORD.findall(text.lower())
    return [fold(w) for w in _WORD.findall(text)]


def surface_words(text: str) -> list[tuple[str, str]]:
    """(folded word, the word as written) for each word of `text`, in order."""
    return [(fold(w), w) for w in _WORD.findall(text)]


# ISO 639-1 codes (what Whisper and language detection give) -> Snowball stemmers that PyStemmer ships.
STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
DEFAULT_LANGUAGE = "en"  # interviews of unknown language are stemmed as English, as before languages were known


def stem_language(code: str | None) -> str | None:
    """The language an interview's words are stemmed in: its own where a stemmer exists, else none (None);
    English where its language is unknown."""
    code = (code or DEFAULT_LANGUAGE).lower().split("-")[0].split("_")[0]
    return code if code in STEMMERS else None


@lru_cache(maxsize=None)
def _stemmer(language: str | None):
    import Stemmer

    if language is None:
        return None
    return Stemmer.Stemmer(STEMMERS[language])


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


def _stem_words(unique: list[str], language: str | None) -> list[str]:
    stemmer = _stemmer(language)
    return stemmer.stemWords(unique) if stemmer else list(unique)


def stems(words_: list[str], languages: tuple[str | None, ...] = (DEFAULT_LANGUAGE,)) -> list[str]:
    """Stems of the non-stopwords, in order, in each of `languages` (a query's words are stemmed in every
    language of the archive, since its own language is unknown); each stem once."""
    stop = stopwords()
    kept = [w for w in words_ if w not in stop]
    found = [stem for language in languages for stem in _stem_words(kept, language)]
    return list(dict.fromkeys(found))


def stem_map(unique_words: set[str], language: str | None = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Stem a vocabulary once; a corpus has far fewer distinct words than tokens."""
    ordered = sorted(unique_words)
    return dict(zip(ordered, _stem_words(ordered, language)))


def stem_sets(unique_words: set[str], languages: tuple[str | None, ...]) -> dict[str, set[str]]:
    """Each word's stems in each of `languages`."""
    found: dict[str, set[str]] = {w: set() for w in unique_words}
    for language in languages:
        for word, stem in stem_map(unique_words, language).items():
            found[word].add(stem)
    return found


def terms(text: str, languages: tuple[str | None, ...] = (DEFAULT_LANGUAGE,)) -> list[str]:
    return stems(words(text), languages)


def normalized(text: str) -> str:
    """Folded words joined by single spaces: what phrase matching compares."""
    return " ".join(words(text))


def split_phrases(query: str) -> tuple[list[str], str]:
    """`"exact phrase" other words` -> (["exact phrase"], 'exact phrase other words'). Typographic quotes
    (“…”, «…», „…“) mark a phrase too."""
    found = ["".join(groups) for groups in _PHRASE.findall(query)]
    phrases = [normalized(p) for p in found if normalized(p)]
    return phrases, regex.sub(r'["“”«»„]', " ", query)


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
