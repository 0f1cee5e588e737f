"""Topic titles from key phrases: KeyBERT ranks a topic's candidate phrases against the topic's own embedding,
with the archive's own sentence embedder; the title is the best one and, when it is nearly as close to the topic,
a second that shares no word with it.

Candidates are runs of one to three content words that a topic repeats and that are particular to it (no
stopwords or talk filler at either end, "cost of launch" allowed inside); the best one or two become a heading:
"Reusable rockets and Starship". Words keep the case they are spoken with most, so names stay capitalised.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from ..retrieval.embedder import Embedder
from ..retrieval.text import FILLER, stopwords

CANDIDATES = 24  # per topic, sent to KeyBERT: embedding them is what a title costs
INSIDE = frozenset({"of", "in", "for", "on", "to"})  # allowed in the middle of a three-word phrase
SECOND_SHARE = 0.85  # a second phrase joins the title when it scores at least this share of the first
LONGER_SHARE = 0.9  # a longer phrase holding the best one replaces it when it scores this share of it
MAX_WORDS = 8
_BEFORE_VERB = frozenset("can could will would should must may might to don't didn't doesn't cannot won't".split())


def titles(topic_texts: Sequence[str], topic_vectors: np.ndarray, embedder: Embedder,
           rarity: Callable[[list[str]], list[float]] | None = None) -> list[str]:
    """One subject per topic, cased as spoken ("coral reefs", "Django"; empty where a topic says nothing
    particular), no two alike. `rarity`: how rare words are in the archive (idf), so that what every interview
    of a Python podcast says ("Python") does not title a topic."""
    from keybert import KeyBERT
    from sklearn.feature_extraction.text import CountVectorizer

    counts = [_phrases(text) for text in topic_texts]
    spread = Counter(p for c in counts for p in c)
    vocabulary = sorted({w for c in counts for p in c for w in p.split()})
    rare = dict(zip(vocabulary, rarity(vocabulary))) if rarity and vocabulary else {}
    model = KeyBERT(model=_Backend(embedder))
    out: list[str] = []
    used: list[set[str]] = []  # the stems of the titles so far: a later topic names what sets it apart
    for text, count, vector in zip(topic_texts, counts, topic_vectors):
        ranked = sorted(count, key=lambda p: -_salience(p, count, spread, len(counts), rare))
        # Said twice, or made of words said twice ("coral reefs" once, but "coral" and "reef" again and again).
        candidates = [p for p in ranked if count[p] >= 2 or all(count[w] >= 2 for w in p.split())][:CANDIDATES] \
            or ranked[:CANDIDATES]
        if not candidates:
            out.append("")
            continue
        scored = model.extract_keywords(text, vectorizer=CountVectorizer(vocabulary=candidates, ngram_range=(1, 3),
                                                                         token_pattern=r"(?u)\b[\w']+\b"),
                                        doc_embeddings=vector[None, :], top_n=len(candidates))
        fresh = [(p, score) for p, score in scored if not any(_stems(p) <= u for u in used)] or scored
        out.append(_heading(fresh, text))
        used.append(_stems(out[-1].lower()) - {"and"})
    return out


def _phrases(text: str) -> Counter:
    from ..retrieval.text import words

    stop = stopwords() | FILLER
    tokens = words(text)
    # Words that follow "can", "to", "will"... are verbs here: "the reef can recover" makes "reef recover" a
    # clause, not a subject, so no phrase may end in one.
    verbs = {b for a, b in zip(tokens, tokens[1:]) if a in _BEFORE_VERB}
    found: Counter = Counter()
    for n in (1, 2, 3):
        for i in range(len(tokens) - n + 1):
            gram = tokens[i:i + n]
            if gram[0] in stop or gram[-1] in stop or any(t in FILLER for t in gram):
                continue
            if any(t in stop and t not in INSIDE for t in gram[1:-1]) or not all(_wordlike(t) for t in gram):
                continue
            if n == 1 and len(gram[0]) < 4 or n > 1 and gram[-1] in verbs:
                continue
            found[" ".join(gram)] += 1
    return found


def _wordlike(token: str) -> bool:
    return any(c.isalpha() for c in token) and "'" not in token


def _salience(phrase: str, count: Counter, spread: Counter, topics: int, rare: dict[str, float]) -> float:
    """How often the topic says it, a little more for longer phrases, less when every topic (or every
    interview in the archive) says it."""
    rarity = np.mean([rare[w] for w in phrase.split()]) if rare else 1.0
    return count[phrase] * (1 + 0.5 * phrase.count(" ")) * math.log(1 + topics / spread[phrase]) * rarity


def _heading(scored: list[tuple[str, float]], text: str) -> str:
    """The best phrase, lengthened when a longer phrase ending in it scores nearly as well ("reef" -> "coral
    reefs"), and a second phrase that shares no word with it when that is nearly as close to the topic."""
    if not scored:
        return ""
    score = dict(scored)
    best = scored[0][0]
    # English puts a noun phrase's head last: "coral reef" names the reef, "reef recover" is a clause.
    longer = [p for p, _ in scored if len(p) > len(best) and _stems(p.split()[-1]) == _stems(best.split()[-1])
              and score[p] >= LONGER_SHARE * score[best]]
    if longer:
        best = max(longer, key=lambda p: score[p])
    chosen = [best]
    second = next((p for p, s in scored if p != best and not _stems(p) & _stems(best)), None)
    if second and score[second] >= SECOND_SHARE * score[scored[0][0]]:
        chosen.append(second)
    title = " and ".join(_cased(p, text) for p in chosen)
    return title if len(title.split()) <= MAX_WORDS else _cased(chosen[0], text)


def _stems(phrase: str) -> set[str]:
    from ..retrieval.text import stem_map

    return set(stem_map(set(phrase.split())).values())


def _cased(phrase: str, text: str) -> str:
    """Each word as it is written most often in the topic ("Starship", "pip", "FastAPI")."""
    import re

    forms: dict[str, Counter] = {}
    for token in re.findall(r"[\w']+", text):
        forms.setdefault(token.lower(), Counter())[token] += 1
    # A capital that only ever follows a full stop is a sentence start, not a name: prefer a lowercase form.
    return " ".join(_form(word, forms.get(word, Counter({word: 1}))) for word in phrase.split())


def _form(word: str, seen: Counter) -> str:
    lower = seen.get(word, 0)
    best, n = seen.most_common(1)[0]
    return word if lower and lower * 2 >= n else best


class _Backend:
    """KeyBERT's embedding backend, backed by the archive's embedder (the same vectors search uses)."""

    def __init__(self, embedder: Embedder):
        from keybert.backend import BaseEmbedder

        self.__class__ = type("OnrecordBackend", (_Backend, BaseEmbedder), {})
        self.embedder = embedder
        self.embedding_model = embedder

    def embed(self, documents, verbose: bool = False) -> np.ndarray:
        return np.asarray(self.embedder.embed(list(documents)), dtype=np.float32)
