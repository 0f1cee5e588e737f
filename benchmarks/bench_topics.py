"""Topic write-ups against hand annotations: where the sections fall, what is set aside, how long it takes.

    python benchmarks/bench_topics.py [--corpus DIR] [--penalty 3 2 1.5 ...] [--speed]

The reference: benchmarks/data/topic_annotations_{a,b}.jsonl (twelve Talk Python episodes, every section marked
by reading the transcript: intro, sponsor reads, topics, outro) and topic_annotations_samples.jsonl (the bundled
ocean-podcast and rockets-interview samples, sections marked by turn of samples/scripts.json). The episodes
(captions, --corpus, default ../shared/data/podcasts/talkpython beside the repository) and the two samples
(audio: transcribed and diarized) are ingested once into benchmarks/out/cache/topics-archive.

Per document, at one-second resolution against every annotated section start: Pk and WindowDiff (k = half the
mean reference section) of
  - "clock": one topic every five minutes, the plain baseline;
  - "before": the previous splitter (TextTiling on segment vectors, one topic per five minutes, no asides),
    run from git (commit BEFORE);
  - "after": search.writeup.outline, sections as the write-up shows them.
Then how the sponsor reads were found (an annotated read counts as found when over half of its time is set aside
as sponsor) and how many topics are mostly an annotated ad (should be none), the titles side by side, and with
--speed the time of a whole extractive `summarize` of a 1-hour and a 3-hour interview (three episodes joined),
against targets of 10 s and 30 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

import numpy as np

from harness import (
    CACHE, DATA, DEFAULT_CORPUS, ROOT, configure_environment, join_episodes, load_jsonl, onrecord, require_dir)

BEFORE = "b3e940a"
SAMPLES = ("ocean-podcast.mp3", "rockets-interview.mp3")
CLOCK_SECONDS = 300.0
TARGETS = {"1 h": 10.0, "3 h": 30.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--penalty", type=float, nargs="*", default=[], help="extra penalties to try (tuning)")
    parser.add_argument("--show-ads", action="store_true", help="print the topics that are mostly an ad")
    parser.add_argument("--speed", action="store_true", help="also time whole write-ups of 1 h and 3 h")
    parser.add_argument("--llm-url", help="an OpenAI-compatible server: measure how often its topics are kept")
    parser.add_argument("--llm-model", default="local", help="the model name to ask it for")
    parser.add_argument("--llm-documents", type=int, default=4, help="how many documents to write up with it")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    configure_environment()
    corpus = require_dir(args.corpus, "the Talk Python transcripts", "--corpus")
    docs = _references(corpus)
    archive_dir = CACHE / "topics-archive"
    _ingest(archive_dir, [corpus / d["episode"] for d in docs if d["episode"] not in SAMPLES] +
            [ROOT / "samples" / s for s in SAMPLES])
    from onrecord.search.writeups import topics

    penalties = [topics.PENALTY, *args.penalty]
    rows, asides = _sections(archive_dir, docs, penalties, args.show_ads)
    _report(rows, penalties)
    print(f"\nsponsor reads (>= 20 s) found: {asides['found']}/{asides['reads']}; topics that are mostly an ad: "
          f"{asides['ads_as_topics']}/{asides['topics']}")
    _calibration(archive_dir)
    if args.llm_url:
        _with_llm(archive_dir, args.llm_url, args.llm_model, [Path(d["episode"]).stem for d in docs],
                  args.llm_documents)
    return 1 if args.speed and _speed(archive_dir, corpus, docs) else 0


def _sections(archive_dir: Path, docs: list[dict], penalties: list[float], show_ads: bool) -> tuple[list, Counter]:
    """Every document's section starts scored three ways (and "after" once per penalty); what was set aside."""
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    settings = Settings(archive=archive_dir)
    archive = open_archive(settings)
    embedder = embedder_for(settings, archive.embed_model)
    by_title = {i.title: i for i in archive.list()}
    rarity = Searcher(archive, embedder).keyword_index().rarity
    old, rows, asides = _before_module(), [], Counter()
    for doc in docs:
        interview = by_title[Path(doc["episode"]).stem]
        row, kept = _document(doc, interview, archive, embedder, rarity, old, penalties)
        asides += _asides(doc, kept, show_ads)
        rows.append(row)
    return rows, asides


def _document(doc: dict, interview, archive, embedder, rarity, old, penalties: list[float]) -> tuple[dict, object]:
    """One document's scores per method, its topic titles, and the outline the first penalty made."""
    from onrecord.search.writeups import topics
    from onrecord.search.writeups.writeup import outline

    segments = list(archive.segments(interview))
    stored = archive.chunk_vectors(interview)
    duration, ref = doc["duration"], doc["starts"]
    row = {"doc": doc["episode"][:28], "ref": len(ref)}
    row["clock"] = _scores(ref, list(np.arange(0, duration, CLOCK_SECONDS)), duration)
    spans = old.split_topics(segments, _segment_vectors(embedder, segments, interview.id))
    row["before"] = _scores(ref, [segments[s.first].start for s in spans], duration)
    made = {}
    for penalty in penalties:
        topics.PENALTY = penalty
        made[penalty] = outline(segments, embedder, stored, rarity)
        starts = [made[penalty].sentences[s.first].start for s in made[penalty].sections]
        row[f"after p={penalty}"] = _scores(ref, starts, duration)
    topics.PENALTY = penalties[0]
    kept = made[penalties[0]]
    row["n"] = sum(s.kind == "topic" for s in kept.sections)
    row["titles"] = [s.title for s in kept.sections if s.kind == "topic"]
    row["ref_titles"] = doc["titles"]
    return row, kept


def _asides(doc: dict, kept, show_ads: bool) -> Counter:
    """Annotated sponsor reads of >= 20 s found (over half their time set aside as sponsor); topics that are
    mostly an annotated ad."""
    duration, counts = doc["duration"], Counter()
    sponsor = _mask(kept, "sponsor", duration)
    for a, b in doc["sponsors"]:
        if b - a >= 20:
            counts["reads"] += 1
            counts["found"] += sponsor[int(a):int(b)].mean() > 0.5
    ad = np.zeros(int(duration) + 1, dtype=bool)
    for a, b in doc["sponsors"]:
        ad[int(a):int(b)] = True
    for s in kept.sections:
        if s.kind == "topic":
            a, b = int(kept.sentences[s.first].start), int(kept.sentences[s.last].end) + 1
            mostly_ad = b > a and ad[a:b].mean() > 0.5
            counts["topics"] += 1
            counts["ads_as_topics"] += mostly_ad
            if mostly_ad and show_ads:
                print(f"topic that is mostly an ad: {doc['episode']} {a}-{b}: {s.title}")
    return counts


def _segment_vectors(embedder, segments, key: str) -> np.ndarray:
    """What the previous splitter embedded (every segment), kept between runs."""
    path = CACHE / f"topics-before-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.asarray(embedder.embed([s.text for s in segments]), dtype=np.float32)
    np.save(path, vectors)
    return vectors


# Subjects the archive discusses, and subjects nothing in it touches: `summarize --topic` must tell them apart.
ON_TOPIC = ("the legality of web scraping", "migrating to Python 3", "API versioning", "remote work",
            "Django history", "coral reef bleaching", "deep sea robots", "reusable rockets")
OFF_TOPIC = ("quantum chromodynamics lattice gauge", "gardening tomatoes compost", "how to bake sourdough bread",
             "knitting a wool sweater", "the history of the Roman empire", "playing the violin")


def _calibration(archive_dir: Path) -> None:
    """The best passage's similarity for subjects discussed and not: summary.RELEVANT must lie between."""
    from onrecord import Onrecord
    from onrecord.search.config import Settings
    from onrecord.search.writeups import summary

    summarizer = Onrecord(Settings(archive=archive_dir)).summarizer()
    best = {}
    for subject in ON_TOPIC + OFF_TOPIC:
        hits = summarizer.answerer.searcher.search(subject, limit=40)
        best[subject] = max(summary._relevance(summarizer.embedder, subject, hits), default=0.0)
    low = min(best[s] for s in ON_TOPIC)
    high = max(best[s] for s in OFF_TOPIC)
    print(f"\nrelevance of the best passage: discussed subjects >= {low:.2f}, subjects nobody discussed <= {high:.2f}; "
          f"cutoff RELEVANT = {summary.RELEVANT}")
    print("  " + ", ".join(f"{s} {best[s]:.2f}" for s in ON_TOPIC + OFF_TOPIC))
    wrong = [s for s in ON_TOPIC + OFF_TOPIC if (best[s] >= summary.RELEVANT) != (s in ON_TOPIC)]
    if wrong:
        print("  on the wrong side of the cutoff: " + ", ".join(f"{s} ({best[s]:.2f})" for s in wrong))
    else:
        print("  every subject on the right side of the cutoff")


def _with_llm(archive_dir: Path, url: str, model: str, titles: list[str], count: int) -> None:
    """Write up the samples and the first episodes with a model; a topic is kept when its title and summary are
    the model's (grounded in the topic), else it falls back to the extractive one."""
    from onrecord import Onrecord
    from onrecord.search.config import Settings

    with_model = Settings(archive=archive_dir, llm_base_url=url, llm_model=model, llm_timeout=600)
    summarizer = Onrecord(with_model).summarizer()
    plain = Onrecord(Settings(archive=archive_dir)).summarizer()
    chosen = [t for t in titles if t in ("ocean-podcast", "rockets-interview")] + \
        [t for t in titles if t not in ("ocean-podcast", "rockets-interview")][:count]
    kept = total = 0
    began = time.perf_counter()
    print(f"\nwith the model {model!r} at {url}:")
    for title in chosen:
        written = summarizer.summarize(title, refresh=True)
        base = plain.summarize(title)
        pairs = [(a, b) for a, b in zip(written.topics, base.topics) if not b.aside]
        mine = sum(a.summary != b.summary for a, b in pairs) if written.mode == "llm" else 0
        kept, total = kept + mine, total + len(pairs)
        print(f"  {title[:28]:28} {written.mode:10} kept {mine}/{len(pairs)}: "
              + " · ".join(t.title for t in written.topics if not t.aside))
        if written.mode == "llm":
            print(f"  {'':28} overview: {written.overview[:200]}")
    took = time.perf_counter() - began
    print(f"  topics written by the model and kept: {kept}/{total} ({took / max(1, total):.0f} s a topic)")


def _references(corpus: Path) -> list[dict]:
    """Every annotated document: its section starts in seconds, its sponsor reads, its topic titles."""
    docs = []
    for name in ("topic_annotations_a.jsonl", "topic_annotations_b.jsonl"):
        for d in load_jsonl(DATA / name):
            docs.append(_reference(d["episode"], d["duration"], [(s["start"], s["kind"], s["title"])
                                                                   for s in d["sections"]]))
    scripts = json.loads((ROOT / "samples" / "scripts.json").read_text())
    for d in load_jsonl(DATA / "topic_annotations_samples.jsonl"):
        turns = scripts[d["episode"]]
        marked = [(turns[s["turn"]]["start"], s["kind"], s["title"]) for s in d["sections"]]
        docs.append(_reference(d["episode"], turns[-1]["end"] + 0.3, marked))
    return docs


def _reference(episode: str, duration: float, sections: list[tuple[float, str, str]]) -> dict:
    starts = [s for s, _, _ in sections]
    ends = starts[1:] + [duration]
    return {"episode": episode, "duration": duration, "starts": starts,
            "sponsors": [(a, b) for (a, kind, _), b in zip(sections, ends) if kind == "sponsor"],
            "titles": [t for _, kind, t in sections if kind == "topic"]}


def _ingest(archive_dir: Path, files: list[Path]) -> None:
    if (archive_dir / "chroma.sqlite3").exists():
        return
    print(f"ingesting {len(files)} documents into {archive_dir} (once)", file=sys.stderr)
    subprocess.run(onrecord("--archive", str(archive_dir), "ingest", *map(str, files), "--json"), check=True,
                   stdout=subprocess.DEVNULL)


def _before_module():
    source = subprocess.run(["git", "show", f"{BEFORE}:search/topics.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("topics_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source.replace("from .models import", "from onrecord.search.models import"), "topics_before", "exec"),
         module.__dict__)
    return module


def _labels(starts: list[float], duration: float) -> np.ndarray:
    """Section number of every second."""
    seconds = np.arange(int(duration))
    return np.searchsorted(np.asarray(sorted(set(starts[1:]) - {0.0})), seconds, side="right")


def _scores(ref: list[float], hyp: list[float], duration: float) -> tuple[float, float]:
    r, h = _labels(ref, duration), _labels(hyp, duration)
    k = max(1, int(round(duration / len(ref) / 2)))
    same_r, same_h = r[:-k] == r[k:], h[:-k] == h[k:]
    pk = float(np.mean(same_r != same_h))
    wd = float(np.mean((r[k:] - r[:-k]) != (h[k:] - h[:-k])))
    return pk, wd


def _mask(made, kind: str, duration: float) -> np.ndarray:
    mask = np.zeros(int(duration) + 1, dtype=bool)
    for s in made.sections:
        if s.kind == kind:
            mask[int(made.sentences[s.first].start):int(made.sentences[s.last].end) + 1] = True
    return mask


def _report(rows: list[dict], penalties: list[float]) -> None:
    methods = ["clock", "before"] + [f"after p={p}" for p in penalties]
    print(f"{'document':28} {'ref':>3} {'n':>3} " + " ".join(f"{m:>16}" for m in methods))
    for row in rows:
        cells = " ".join(f"{row[m][0]:7.2f} /{row[m][1]:6.2f} " for m in methods)
        print(f"{row['doc']:28} {row['ref']:>3} {row['n']:>3} {cells}")
    means = {m: np.mean([r[m] for r in rows], axis=0) for m in methods}
    print(f"{'mean Pk / WindowDiff':36} " + " ".join(f"{means[m][0]:7.2f} /{means[m][1]:6.2f} " for m in methods))
    after = means[methods[2]]
    print(f"after / before: Pk {after[0] / means['before'][0]:.2f}, WindowDiff {after[1] / means['before'][1]:.2f}; "
          f"after / clock: Pk {after[0] / means['clock'][0]:.2f}")
    print("\ntitles (after | annotated):")
    for row in rows:
        print(f"  {row['doc']}: {' · '.join(row['titles'])}\n  {'':28}| {' · '.join(row['ref_titles'])}")


def _speed(archive_dir: Path, corpus: Path, docs: list[dict]) -> int:
    """Whole extractive write-ups (`summarize --refresh`) of one episode and of three joined, in a process each."""
    episodes = [d["episode"] for d in docs if d["episode"] not in SAMPLES][:3]
    joined = CACHE / "three-hours.vtt"
    if not joined.exists():
        join_episodes([corpus / e for e in episodes], joined)
        subprocess.run(onrecord("--archive", str(archive_dir), "ingest", str(joined), "--json"), check=True,
                       stdout=subprocess.DEVNULL)
    missed = 0
    for label, ref in (("1 h", Path(episodes[0]).stem), ("3 h", joined.stem)):
        began = time.perf_counter()
        subprocess.run(onrecord("--archive", str(archive_dir), "summarize", ref, "--refresh", "--json"),
                       check=True, stdout=subprocess.DEVNULL)
        took = time.perf_counter() - began
        ok = took <= TARGETS[label]
        missed += not ok
        print(f"extractive write-up of {label}: {took:.1f} s (target {TARGETS[label]:.0f} s{'' if ok else ', MISSED'})")
    return missed


if __name__ == "__main__":
    sys.exit(main())
