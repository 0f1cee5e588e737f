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
episode and overlaps the answer's window widened by harness.SLACK_S each side (as in bench_search.py).
"""

from __future__ import annotations

import argparse
import functools
import random
import tempfile
from pathlib import Path

import numpy as np

from harness import (
    DEFAULT_CORPUS, configure_environment, first_correct_rank, print_table, questions, rank_metrics, ratio,
    require_dir, searcher, write_report)


SPEAKERS = ("Ana", "Ben", "Chen", "Dev")
BACKCHANNELS = ("Yeah.", "Right.", "Mm-hmm.", "Okay.", "Sure.", "Exactly.", "Yes.", "Uh-huh.")
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


def quality(archive_dir: Path, asked: list[dict]) -> dict:
    reader = searcher(archive=archive_dir)
    ids = {Path(i.source).stem: i.id for i in reader.archive.list()}
    report = {}
    for mode in MODES:
        ranks = [first_correct_rank(reader.search(q["question"], limit=10, mode=mode), ids[Path(q["episode"]).stem], q)
                 for q in asked]
        report[mode] = {k: round(v, 3) for k, v in rank_metrics(ranks).items()}
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
    all_questions = questions()
    episodes = list(dict.fromkeys(q["episode"] for q in all_questions))[: args.episodes]
    asked = [q for q in all_questions if q["episode"] in episodes]
    rng = random.Random(args.seed)
    report: dict = {"episodes": len(episodes), "questions": len(asked)}
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
            report[variant] |= quality(Path(tmp) / variant, asked)
    write_report("bench_turns", report)
    print_report(report)


def print_report(report: dict) -> None:
    variants = [report[v] for v in ("before", "after", "plain")]
    print(f"\n{report['episodes']} meeting-like episodes, {report['questions']} questions\n")
    rows = [("chunks per hour", [v["chunks_per_hour"] for v in variants]),
            ("share of chunks < 10 tokens", [v["under_10_tokens"] for v in variants])]
    rows += [(f"chunk tokens p{q}", [v["tokens_p10_p50_p90"][n] for v in variants]) for n, q in enumerate((10, 50, 90))]
    for mode in MODES:
        rows += [(f"{mode} {k}", [v[mode][k] for v in variants]) for k in ("success_at_1", "success_at_5", "mrr_at_10")]
    print_table(["", "before", "after", "after/before", "plain"],
                [[name, b, a, ratio(a, b), p] for name, (b, a, p) in rows])


if __name__ == "__main__":
    main()
