"""Whisper tiny.en (the default) against the multilingual base (`--whisper-model base`): accuracy and speed.

    python benchmarks/bench_asr.py [--audio DIR] [--repeats 3]

Clips with reference text: --audio's jfk.flac + jfk.txt (11 s of real English; default ../shared/data/audio beside
the repository, skipped when absent), the rockets-interview sample (45 s of espeak-ng English; samples/scripts.json)
and the Spanish fixture (23 s of espeak-ng Spanish; tests/data/spanish-interview.json). Each model transcribes
each clip as onrecord does (WhisperTranscriber: windows, VAD, beam 5, word timings, every segment consumed), on the
CPU with all cores, `--repeats` times, tiny.en and base taking turns so that load from other processes falls on both.

Reported per clip and model: WER (words lower-cased, punctuation dropped, accents kept; Levenshtein over words),
the detected language, the real-time factor (median transcription time / audio length) and base's time over
tiny.en's; "all English" is the English clips together (their mean WER, their total time over total length).
Also: the one-time join of base's two packages into a fresh cache, the check on every later load, and each model's
load time. tiny.en is English only: on Spanish it writes an English guess, and the report says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from harness import DEFAULT_AUDIO, ROOT, configure_environment, write_report


MODELS = ("tiny.en", "base")
SPANISH = ROOT / "tests" / "data" / "spanish-interview"


def normalise(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / max(len(ref), 1)


def clips(audio: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (file, reference text, language spoken)."""
    found = {}
    if (audio / "jfk.flac").is_file():
        found["jfk.flac (real)"] = (audio / "jfk.flac", (audio / "jfk.txt").read_text(), "en")
    else:
        print(f"jfk.flac: skipped (not in {audio}; pass --audio DIR)")
    rockets = json.loads((ROOT / "samples" / "scripts.json").read_text())["rockets-interview.mp3"]
    found["rockets-interview (espeak)"] = (ROOT / "samples" / "rockets-interview.mp3",
                                          " ".join(t["text"] for t in rockets), "en")
    spanish = json.loads(SPANISH.with_suffix(".json").read_text())
    found["spanish-interview (espeak)"] = (SPANISH.with_suffix(".ogg"),
                                           " ".join(t["text"] for t in spanish["turns"]), "es")
    return found


def join_cost() -> dict:
    """base's first use (the two parts joined into an empty cache) and every later one (the checksum)."""
    from onrecord.ingest.whisper_models import split_model_path

    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        began = time.perf_counter()
        split_model_path("base", Path(tmp))
        first = time.perf_counter() - began
        began = time.perf_counter()
        split_model_path("base", Path(tmp))
        again = time.perf_counter() - began
    return {"join_s": round(first, 2), "check_s": round(again, 2)}


def transcribe(transcriber, path: Path) -> tuple[str, str | None, float, float]:
    began = time.perf_counter()
    result = transcriber.transcribe(path)
    text = " ".join(s.text for s in result.segments)
    return text, result.language, time.perf_counter() - began, result.duration


def measure(found: dict, repeats: int) -> tuple[dict, dict]:
    from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
    from onrecord.search.config import Settings

    options = TranscribeOptions.from_settings(Settings(device="cpu"))
    transcribers, loads = {}, {}
    for name in MODELS:
        transcribers[name] = WhisperTranscriber(dataclasses.replace(options, model=name))
        began = time.perf_counter()
        transcribers[name].model  # noqa: B018 - the load, timed apart
        loads[name] = round(time.perf_counter() - began, 2)
    results = {clip: {m: {"times": []} for m in MODELS} for clip in found}
    for _ in range(repeats):
        for clip, (path, reference, _spoken) in found.items():
            for name in MODELS:
                text, language, seconds, duration = transcribe(transcribers[name], path)
                r = results[clip][name]
                r["times"].append(seconds)
                r.update(text=text, language=language, duration=duration, wer=round(wer(reference, text), 3))
    for clip in results.values():
        for r in clip.values():
            r["rtf"] = round(statistics.median(r["times"]) / r["duration"], 3)
        clip["base/tiny.en"] = round(clip["base"]["rtf"] / clip["tiny.en"]["rtf"], 2)
    english = [results[c] for c, (_, _, spoken) in found.items() if spoken == "en"]
    if english:  # all English audio together: the speed an English user trades for base
        results["all English"] = totals(english)
    return results, loads


def totals(clips: list[dict]) -> dict:
    duration = sum(c["tiny.en"]["duration"] for c in clips)
    out = {}
    for name in MODELS:
        seconds = sum(statistics.median(c[name]["times"]) for c in clips)
        words = [c[name]["wer"] for c in clips]
        out[name] = {"rtf": round(seconds / duration, 3), "wer": round(statistics.mean(words), 3), "language": "en"}
    out["base/tiny.en"] = round(out["base"]["rtf"] / out["tiny.en"]["rtf"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO, help="folder with jfk.flac and jfk.txt")
    parser.add_argument("--repeats", type=int, default=3, help="transcriptions of each clip by each model")
    args = parser.parse_args()
    configure_environment()
    found = clips(args.audio)
    report = {"cpu_count": os.cpu_count(), "repeats": args.repeats, "base_first_use": join_cost()}
    report["clips"], report["load_s"] = measure(found, args.repeats)
    report["spoken"] = {clip: spoken for clip, (_, _, spoken) in found.items()} | {"all English": "en"}
    write_report("bench_asr", report)
    print_report(report)


def print_report(report: dict) -> None:
    first = report["base_first_use"]
    print(f"\nWhisper on CPU ({report['cpu_count']} cores), median of {report['repeats']}; load tiny.en "
          f"{report['load_s']['tiny.en']} s, base {report['load_s']['base']} s; base's first use joins its parts "
          f"in {first['join_s']} s, later loads check them in {first['check_s']} s\n")
    print("| clip | tiny.en WER | base WER | tiny.en RTF | base RTF | base / tiny.en time | detected (tiny.en, base) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for clip, r in report["clips"].items():
        tiny, base = r["tiny.en"], r["base"]
        english_only = " (English only)" if report["spoken"][clip] != "en" else ""
        print(f"| {clip} | {tiny['wer']:.2f}{english_only} | {base['wer']:.2f} | {tiny['rtf']:.3f} | "
              f"{base['rtf']:.3f} | {r['base/tiny.en']:.1f}× | {tiny['language']}, {base['language']} |")
    for clip, r in report["clips"].items():
        for name in MODELS if "text" in r["tiny.en"] else ():
            print(f"\n{clip}, {name}: {r[name]['text']}")


if __name__ == "__main__":
    main()
