"""Calibrates the relevance floor: how close (cosine) a passage must be to a query for a hit found by meaning alone.

    python benchmarks/bench_relevance.py [--archive DIR]

On the 509-episode archive (benchmarks/out/corpus-archive, built by bench_search.py), two sets of queries:
- on topic: the 70 questions of benchmarks/data/search_eval.jsonl, each about a known moment of one episode. For
  each, the similarity of the best passage of that moment among the 10 nearest chunks (a relevant hit);
- off topic: benchmarks/data/offtopic_queries.txt, subjects no episode of a Python podcast discusses. For each,
  the similarity of its nearest chunk (the hit a floorless search would show first).
Prints both distributions, then for levels from 0.10 to 0.50: the share of relevant hits above it and the share
of off-topic queries whose nearest chunk is below it, with onrecord's two levels marked: DENSE_FLOOR (below it a
meaning-only hit is dropped) and WEAK_BELOW (below it, one is shown as a weak match). They fit when the floor
drops no relevant hit (>= 99% kept), at most 5% of relevant hits are marked weak, and >= 80% of off-topic
queries get no hit or only weak ones: exit 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import CORPUS_ARCHIVE, DATA, configure_environment, percentile, questions, require_archive

NEAREST = 10


def nearest(collection, embedder, query: str) -> list[tuple[dict, float]]:
    got = collection.query(query_embeddings=[embedder.embed([query])[0]], n_results=NEAREST,
                           include=["metadatas", "distances"])
    return [(meta, 1.0 - dist) for meta, dist in zip(got["metadatas"][0], got["distances"][0])]


def relevant_similarity(found: list[tuple[dict, float]], interview_id: str, start: float, end: float) -> float | None:
    sims = [sim for meta, sim in found
            if meta["interview_id"] == interview_id and meta["start"] < end and meta["end"] > start]
    return max(sims) if sims else None


def describe(name: str, values: list[float]) -> None:
    cells = "  ".join(f"p{q}={percentile(values, q):.3f}" for q in (0, 5, 50, 95, 100))
    print(f"{name:<34} n={len(values):<3} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=CORPUS_ARCHIVE)
    args = parser.parse_args()
    archive = require_archive(args.archive)
    configure_environment()
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import DENSE_FLOOR, WEAK_BELOW
    from onrecord.search.store import open_archive

    store = open_archive(Settings(archive=archive))
    embedder, chunks = embedder_for(Settings(), store.embed_model), store.chunks()
    ids = {Path(i.source).name: i.id for i in store.list()}
    relevant = []
    for q in questions():
        sim = relevant_similarity(nearest(chunks, embedder, q["question"]), ids[q["episode"]], q["start"], q["end"])
        if sim is not None:
            relevant.append(sim)
    offtopic = [nearest(chunks, embedder, q)[0][1]
                for q in (DATA / "offtopic_queries.txt").read_text().splitlines() if q.strip()]
    describe("relevant hits (on-topic questions)", relevant)
    describe("nearest chunk (off-topic queries)", offtopic)
    levels = {DENSE_FLOOR: "  <- DENSE_FLOOR (dropped below)", WEAK_BELOW: "  <- WEAK_BELOW (weak below)"}
    print(f"\n{'level':>6} {'relevant above':>15} {'off-topic below':>16}")
    for level in sorted({round(0.10 + 0.05 * n, 2) for n in range(9)} | set(levels)):
        above = sum(s >= level for s in relevant) / len(relevant)
        below = sum(s < level for s in offtopic) / len(offtopic)
        print(f"{level:>6.2f} {above:>15.0%} {below:>16.0%}{levels.get(level, '')}")
    kept = sum(s >= DENSE_FLOOR for s in relevant) / len(relevant)
    marked = sum(s < WEAK_BELOW for s in relevant) / len(relevant)
    quieted = sum(s < WEAK_BELOW for s in offtopic) / len(offtopic)
    print(f"\nrelevant hits kept {kept:.0%} (target >= 99%), marked weak {marked:.0%} (target <= 5%); "
          f"off-topic queries with no hit or only weak ones {quieted:.0%} (target >= 80%)")
    sys.exit(0 if kept >= 0.99 and marked <= 0.05 and quieted >= 0.8 else 1)


if __name__ == "__main__":
    main()
