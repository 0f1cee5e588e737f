"""Retrieval on meeting-like transcripts: a chunk per turn (before) against short turns grouped (after).

    python benchmarks/bench_turns.py [--corpus DIR] [--episodes 12] [--seed 7]

The transcripts: the episodes of benchmarks/data/search_eval.jsonl (real Talk Python captions, --corpus, default
../shared/data/podcasts/talkpython beside the repository) turned into meetings: their cues are dealt to four
speakers in turns of one to three cues, and between turns, more often than not, another speaker says "Yeah.",
"Right.", "Mm-hmm." ... (a cue of its own squeezed into the gap). Every cue keeps its time, so each question's
answer window still holds. Both variants ingest the same voice-tagged WebVTT files through the real Ingestor
and MiniLM, then answer the same questions (hybrid and semantic, 10 hits each).

For reference, the same episodes as they really are (captions without speakers, so chunks are plain windows)
are ingested and asked too ("plain").

Reported, side by side with the ratio after/before: chunks per hour of talk, the share of chunks under ten
tokens, chunk size percentiles (tokens), Success@1, Success@5 and MRR@10. A hit is correct when it is from the
episode and overlaps the answer's window widened by SLACK_S each side (as in bench_search.py).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import DEFAULT_CORPUS, OUT, ROOT, configure_environment, load_jsonl, require_dir  # noqa: E402

sys.path.insert(0, str(ROOT))

SPEAKERS = ("Ana", "Ben", "Chen", "Dev")
BACKCHANNELS = ("Yeah.", "Right.", "Mm-hmm.", "Okay.", "Sure.", "Exactly.", "Yes.", "Uh-huh.")
SLACK_S = 5.0
MODES = ("hybrid", "semantic")


def meeting_vtt(source: Path, target: Path, rng: random.Random) -> None:
    """The episode's cues dealt to SPEAKERS in short turns, with backchannels from others between them."""
    from onrecord.ingest.captions import parse_vtt
    from onrecord.search.timefmt import format_timestamp

    cues = parse_vtt(source.read_text(encoding="utf-8-sig"), source.stem).segments
    lines, n, speaker = ["WEBVTT", ""], 0, rng.choice(SPEAKERS)
    while n < len(cues):
        turn = cues[n: n + rng.randint(1, 3)]
        for cue in turn:
            lines += [f"{format_timestamp(cue.start, always_hours=True)} --> "
                      f"{format_timestamp(cue.end, always_hours=True)}", f"<v {speaker}>{cue.text}", ""]
        n += len(turn)
        others = [s for s in SPEAKERS if s != speaker]
        if rng.random() < 0.6:
            end = turn[-1].end
            stamp = f"{format_timestamp(end, always_hours=True)} --> {format_timestamp(end + 0.3, always_hours=True)}"
            lines += [stamp, f"<v {rng.choice(others)}>{rng.choice(BACKCHANNELS)}", ""]
        speaker = rng.choice(others)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(folder: Path, archive_dir: Path, min_tokens: int | None) -> dict:
    """Ingest every meeting; the chunker as it is (min_tokens None), or with another min_tokens (0: as it was,
    a chunk ends at every turn)."""
    import onrecord.ingest.pipeline
    from onrecord.ingest.pipeline import Ingestor
    from onrecord.ingest.sources import expand
    from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
    from onrecord.search.retrieval.chunking import chunk_segments
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.store import open_archive

    chunker = chunk_segments if min_tokens is None else functools.partial(chunk_segments, min_tokens=min_tokens)
    onrecord.ingest.pipeline.chunk_segments = chunker
    settings = Settings(archive=archive_dir)
    archive = open_archive(settings, create=True)
    embedder = embedder_for(settings, archive.embed_model)
    ingestor = Ingestor(archive, WhisperTranscriber(TranscribeOptions()), embedder)
    results = list(ingestor.run(expand([str(folder)])))
    assert all(r.status == "added" for r in results), [r.error for r in results if r.error]
    texts = archive.chunks().get(include=["documents"])["documents"]
    tokens = np.array(embedder.count_tokens(texts))
    hours = sum(i.duration for i in archive.list()) / 3600
    return {"chunks": len(texts), "chunks_per_hour": round(len(texts) / hours, 1),
            "under_10_tokens": round(float((tokens < 10).mean()), 3),
            "tokens_p10_p50_p90": [int(np.percentile(tokens, q)) for q in (10, 50, 90)]}


def quality(archive_dir: Path, questions: list[dict]) -> dict:
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    settings = Settings(archive=archive_dir)
    archive = open_archive(settings)
    searcher = Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)
    ids = {Path(i.source).stem: i.id for i in archive.list()}
    report = {}
    for mode in MODES:
        ranks = []
        for q in questions:
            hits = searcher.search(q["question"], limit=10, mode=mode)
            good = [n for n, h in enumerate(hits, 1) if h.interview_id == ids[Path(q["episode"]).stem]
                    and h.start <= q["end"] + SLACK_S and h.end >= q["start"] - SLACK_S]
            ranks.append(good[0] if good else None)
        report[mode] = {"success_at_1": round(sum(r == 1 for r in ranks) / len(ranks), 3),
                        "success_at_5": round(sum(r is not None and r <= 5 for r in ranks) / len(ranks), 3),
                        "mrr_at_10": round(sum(1 / r for r in ranks if r) / len(ranks), 3)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the talkpython WebVTT folder")
    parser.add_argument("--episodes", type=int, default=12, help="how many question episodes (default 12)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-tokens", type=int, help="the grouping threshold to try (default: the chunker's)")
    args = parser.parse_args()
    corpus = require_dir(args.corpus, "the podcast corpus", "--corpus")
    configure_environment()
    all_questions = load_jsonl(ROOT / "benchmarks" / "data" / "search_eval.jsonl")
    episodes = list(dict.fromkeys(q["episode"] for q in all_questions))[: args.episodes]
    questions = [q for q in all_questions if q["episode"] in episodes]
    rng = random.Random(args.seed)
    report: dict = {"episodes": len(episodes), "questions": len(questions)}
    with tempfile.TemporaryDirectory(prefix="bench-turns-") as tmp:
        meetings, plain = Path(tmp) / "meetings", Path(tmp) / "plain"
        meetings.mkdir()
        plain.mkdir()
        for name in episodes:
            meeting_vtt(corpus / name, meetings / name, rng)
            (plain / name).write_bytes((corpus / name).read_bytes())
        for variant, source, min_tokens in (("before", meetings, 0), ("after", meetings, args.min_tokens),
                                            ("plain", plain, None)):
            print(f"{variant}: ingesting {len(episodes)} episodes ...", flush=True)
            report[variant] = build(source, Path(tmp) / variant, min_tokens)
            report[variant] |= quality(Path(tmp) / variant, questions)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_turns.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


def print_report(report: dict) -> None:
    variants = [report[v] for v in ("before", "after", "plain")]
    print(f"\n{report['episodes']} meeting-like episodes, {report['questions']} questions\n")
    print(f"{'':34}{'before':>10}{'after':>10}{'after/before':>14}{'plain':>10}")
    rows = [("chunks per hour", [v["chunks_per_hour"] for v in variants]),
            ("share of chunks < 10 tokens", [v["under_10_tokens"] for v in variants])]
    rows += [(f"chunk tokens p{q}", [v["tokens_p10_p50_p90"][n] for v in variants]) for n, q in enumerate((10, 50, 90))]
    for mode in MODES:
        rows += [(f"{mode} {k}", [v[mode][k] for v in variants]) for k in ("success_at_1", "success_at_5", "mrr_at_10")]
    for name, (b, a, p) in rows:
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"{name:34}{b:>10}{a:>10}{ratio:>14}{p:>10}")


if __name__ == "__main__":
    main()
