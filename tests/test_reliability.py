"""Faults injected for real: SIGKILL and Ctrl-C mid-ingest, concurrent processes, secrets, a newer schema."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ONRECORD, ROOT, SAMPLES, json_lines, run_cli
from llm_servers import scripted_server


def _vtt(path: Path, cues: int, topic: str) -> Path:
    body = "".join(f"{_ts(2 * i)} --> {_ts(2 * i + 1.5)}\nPart {i} of the talk about {topic}, item {i % 23}.\n\n"
                   for i in range(cues))
    path.write_text("WEBVTT\n\n" + body)
    return path


def _ts(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"


def _batch(folder: Path) -> list[str]:
    folder.mkdir()
    return [str(SAMPLES / "rockets-interview.mp3"), str(_vtt(folder / "long.vtt", 2500, "harbours")),
            str(SAMPLES / "coffee-interview.ogg"), str(_vtt(folder / "short.vtt", 300, "orchards")),
            str(_vtt(folder / "longer.vtt", 4000, "canals")), str(SAMPLES / "transcripts" / "gardening.vtt")]


def _start(archive: Path, sources: list[str]) -> subprocess.Popen:
    return subprocess.Popen([*ONRECORD, "--archive", str(archive), "ingest", *sources, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """A suite started from a background job inherits SIGINT as ignored; the child must see Ctrl-C as a user's
    terminal would deliver it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _state(archive: Path) -> dict:
    """What readers can see, and every record behind it."""
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    a = open_archive(Settings(archive=archive))
    listed = {i.id: (i.segments, i.chunks) for i in a.list()}
    chunks = a.chunks().get(include=["metadatas"]) if a.embed_model else {"ids": [], "metadatas": []}
    pages = a.transcripts.get(include=["metadatas"])
    return {"listed": listed,
            "chunks": sorted(c for c, m in zip(chunks["ids"], chunks["metadatas"]) if m["interview_id"] in listed),
            "pages": sorted(p for p, m in zip(pages["ids"], pages["metadatas"]) if m["interview_id"] in listed)}


def _visible_is_complete(archive: Path, clean: dict) -> None:
    done = run_cli("--archive", str(archive), "list", "--json")
    assert done.returncode == 0, done.stderr
    for item in json.loads(done.stdout):
        assert (item["segments"], item["chunks"]) == clean["listed"][item["id"]], "a half interview is visible"
        export = json.loads(run_cli("--archive", str(archive), "export", item["id"], "--format", "json").stdout)
        assert len(export["segments"]) == item["segments"]


@pytest.mark.models
def test_sigkill_at_many_points_then_a_rerun_equals_a_clean_run(tmp_path):
    sources = _batch(tmp_path / "batch")
    began = time.time()
    clean_run = _start(tmp_path / "clean", sources)
    assert clean_run.wait(timeout=600) == 0, clean_run.stderr.read()
    total = time.time() - began
    clean = _state(tmp_path / "clean")
    assert len(clean["listed"]) == 6

    # Each run resumes where the last one was killed, so short, varied delays walk the kills through the
    # batch: model loading, transcription, chunking and embedding, page and chunk writes, commits. The
    # delays are fractions of the clean run, so a slower machine gets later kills; a batch that completes
    # before its kill is checked against the clean run and a fresh round starts.
    crashed = tmp_path / "crashed"
    killed, fractions, rounds = [], [0.15, 0.3, 0.45, 0.6], 0
    for attempt in range(40):
        process = _start(crashed, sources)
        time.sleep(total * fractions[attempt % len(fractions)])
        if process.poll() is not None:  # this archive is complete: check it, then start another round
            assert process.returncode == 0 and _state(crashed) == clean
            rounds += 1
            crashed = tmp_path / f"crashed-{rounds}"
            continue
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        killed.append(len(_state(crashed)["listed"]))
        _visible_is_complete(crashed, clean)
        if len(killed) == 12:
            break
    assert len(killed) >= 10, f"only {len(killed)} kills landed ({total:.1f} s clean run)"
    assert len(set(killed)) > 1, f"the kills should land at different points of the batch: {killed}"
    final = _start(crashed, sources)
    assert final.wait(timeout=600) == 0, final.stderr.read()
    assert _state(crashed) == clean
    again = json_lines(run_cli("--archive", str(crashed), "ingest", *sources, "--json").stdout)
    assert {r["status"] for r in again} == {"skipped"}


def _long_speech(path: Path, repeats: int = 6) -> Path:
    """A few minutes of real speech: the rockets sample, again and again."""
    import wave

    import numpy as np
    from faster_whisper import decode_audio

    audio = np.tile(decode_audio(str(SAMPLES / "rockets-interview.mp3")), repeats)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((audio * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.models
def test_ctrl_c_exits_cleanly_and_leaves_nothing_half_written(tmp_path):
    archive = tmp_path / "archive"
    speech = _long_speech(tmp_path / "long talk.wav")
    process = _start(archive, [str(speech)])
    time.sleep(5)  # into transcription
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    err = process.stderr.read()
    assert "Traceback" not in err and "interrupted" in err
    assert json.loads(run_cli("--archive", str(archive), "list", "--json").stdout) == []
    rerun = json_lines(run_cli("--archive", str(archive), "ingest", str(speech), "--json").stdout)
    assert rerun[0]["status"] == "added"


@pytest.mark.slow
def test_two_ingests_of_one_file_at_once_end_with_one_interview(tmp_path):
    archive = tmp_path / "archive"
    vtt = str(_vtt(tmp_path / "same.vtt", 1500, "bridges"))
    first, second = _start(archive, [vtt]), _start(archive, [vtt])
    outcomes = sorted(json.loads(p.communicate(timeout=300)[0])["status"] for p in (first, second))
    assert outcomes == ["added", "skipped"]
    state = _state(archive)
    assert len(state["listed"]) == 1 and len(state["chunks"]) == list(state["listed"].values())[0][1]


@pytest.mark.slow
def test_searches_and_answers_in_other_processes_while_an_ingest_writes(tmp_path):
    archive = tmp_path / "archive"
    first = _vtt(tmp_path / "first.vtt", 200, "lighthouses")
    run_cli("--archive", str(archive), "ingest", str(first))
    folder = tmp_path / "more"
    folder.mkdir()
    for n, topic in enumerate(["glaciers", "volcanoes", "deserts", "rainforests"]):
        _vtt(folder / f"{n}-{topic}.vtt", 800, topic)
    writer = _start(archive, [str(folder)])
    seen_errors, reads = [], 0
    while writer.poll() is None and reads < 40:
        reads += 1
        if reads % 2:
            done = run_cli("--archive", str(archive), "search", "talk about volcanoes", "--json", "--limit", "5")
            shown = json.loads(done.stdout or "[]")
        else:
            done = run_cli("--archive", str(archive), "ask", "what is said about volcanoes?", "--json")
            shown = json.loads(done.stdout or "{}").get("quotes", [])
        if done.returncode != 0:
            seen_errors.append(done.stderr)
            continue
        listed = {i["id"]: i for i in json.loads(run_cli("--archive", str(archive), "list", "--json").stdout)}
        assert all(h["interview_id"] in listed for h in shown), "a hit or quote from an unfinished interview"
    assert writer.wait(timeout=600) == 0
    assert not seen_errors, seen_errors[:2]
    assert reads >= 2
    assert json.loads(run_cli("--archive", str(archive), "search", "volcanoes", "--json").stdout)[0]["title"] \
        == "1-volcanoes"


def test_the_api_key_is_never_written_anywhere(tmp_path, model_cache):
    key = "sk-onrecord-test-0123456789abcdef"
    archive = tmp_path / "archive"
    with scripted_server("ok", 'It is "drip irrigation on a timer" [1].') as (url, prompts):
        env = {"ONRECORD_LLM_BASE_URL": url, "ONRECORD_LLM_MODEL": "m", "OPENAI_API_KEY": key}
        outputs = [run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts"), env=env),
                   run_cli("--archive", str(archive), "ask", "how is the garden watered?", env=env),
                   run_cli("--archive", str(archive), "summarize", "gardening", env=env),
                   run_cli("--archive", str(archive), "export", "gardening", "--format", "md", env=env)]
    assert prompts, "the model was called"
    for done in outputs:
        assert done.returncode == 0 and key not in done.stdout + done.stderr
    for folder in (archive, model_cache):
        for path in folder.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path


def test_an_archive_from_a_newer_onrecord_is_refused_not_touched(tmp_path):
    archive = tmp_path / "archive"
    run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts" / "gardening.vtt"))
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    meta = open_archive(Settings(archive=archive))._meta
    meta.upsert(ids=["archive"], metadatas=[{"schema": 99}], embeddings=[[1.0]])
    done = run_cli("--archive", str(archive), "list")
    assert done.returncode == 1 and "schema 99, newer than this onrecord understands" in done.stderr


@pytest.mark.slow
def test_a_transcript_with_100k_segments_streams_in_bounded_memory(tmp_path):
    """Pages and chunks are written as segments stream through, and the embedder runs at most TOKENS_PER_RUN
    padded tokens at once. Measured: about 0.4 GB peak, 0.13 GB above a 12-cue file; before the token budget,
    ONNX Runtime kept 0.55 GB of activations for batches of 32 full-length chunks."""
    path = tmp_path / "huge.vtt"
    with open(path, "w") as f:
        f.write("WEBVTT\n\n")
        for i in range(100_000):
            f.write(f"{_ts(i)} --> {_ts(i + 0.9)}\nline {i % 997}\n\n")
    # The small one first: a cold cache makes the first ingest export MiniLM to ONNX, which loads torch.
    _, small_peak = _ingest_measuring_peak(tmp_path / "small", _vtt(tmp_path / "small.vtt", 12, "kites"))
    results, peak = _ingest_measuring_peak(tmp_path / "archive", path)
    assert results[0]["status"] == "added", results
    assert peak - small_peak < 300, f"100k cues peaked at {peak:.0f} MiB, 12 cues at {small_peak:.0f} MiB"
    listed = json.loads(run_cli("--archive", str(tmp_path / "archive"), "list", "--json").stdout)
    assert listed[0]["segments"] == 100_000
    export = run_cli("--archive", str(tmp_path / "archive"), "export", listed[0]["id"], "--format", "srt")
    assert export.returncode == 0 and export.stdout.count(" --> ") == 100_000


def _ingest_measuring_peak(archive: Path, source: Path) -> tuple[list[dict], float]:
    """`onrecord ingest SOURCE` in a process of its own; its results and its peak RSS in MiB."""
    done = subprocess.run([sys.executable, "-c", (
        "import resource, sys; from onrecord.ui.cli import main\n"
        "try:\n    main(['--archive', sys.argv[1], 'ingest', sys.argv[2], '--json'])\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)"),
        str(archive), str(source)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr
    return json_lines(done.stdout), int(done.stderr.strip().splitlines()[-1]) / 1024


def _three_hours(path: Path, speech_at: list[int]) -> Path:
    """Three hours of FLAC (silence compresses to almost nothing), with the rockets sample at `speech_at`."""
    import av
    import numpy as np

    from onrecord.ingest.audio import SAMPLE_RATE, pcm_blocks

    speech = np.concatenate(list(pcm_blocks(SAMPLES / "rockets-interview.mp3")))
    total, minute = 3 * 3600 * SAMPLE_RATE, 60 * SAMPLE_RATE
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        for pos in range(0, total, minute):
            block = np.zeros(minute, np.int16)
            for at in (s * SAMPLE_RATE for s in speech_at):
                lo, hi = max(at, pos), min(at + len(speech), pos + minute)
                if lo < hi:
                    block[lo - pos:hi - pos] = speech[lo - at:hi - at]
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.mark.models
def test_a_three_hour_recording_is_transcribed_in_bounded_memory(tmp_path):
    """Audio is decoded and transcribed in windows of a few minutes, cut at pauses: the peak must not grow with
    the length. faster-whisper's whole-file decoding peaked at 2.7 GB on this file; windows gave 0.7 GB,
    against 0.5 GB for the 44-second sample alone."""
    speech_at = [5, 590, 5400, 10740]  # 590: speech runs across where a fixed 300/600 s window would cut
    long = _three_hours(tmp_path / "three hours.flac", speech_at)
    # The short one first: a cold cache makes the first ingest export MiniLM to ONNX, which loads torch.
    _, short_peak = _ingest_measuring_peak(tmp_path / "short", SAMPLES / "rockets-interview.mp3")
    results, peak = _ingest_measuring_peak(tmp_path / "archive", long)
    assert results[0]["status"] == "added" and results[0]["duration"] == 10800.0
    assert peak - short_peak < 400, f"3 h peaked at {peak:.0f} MiB, the 44 s sample at {short_peak:.0f} MiB"
    srt = run_cli("--archive", str(tmp_path / "archive"), "export", results[0]["interview_id"], "--format", "srt")
    greetings = [cue for cue in srt.stdout.split("\n\n") if "guest today" in cue]
    starts = [_seconds(g.splitlines()[1].split(" --> ")[0]) for g in greetings]
    assert len(starts) == 4 and all(abs(t - at) < 10 for t, at in zip(starts, speech_at)), starts


def _seconds(stamp: str) -> float:
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _in_own_mounts(script: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a bash script as root of a fresh user and mount namespace: it may mount a small tmpfs or a
    read-only bind mount, which plain root in this container may not, and which vanish when it ends."""
    if subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True).returncode:
        pytest.skip("user namespaces are not available here, so no tmpfs or read-only mount can be made")
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "bash", "-c", script],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _steps(output: str) -> dict[str, str]:
    """The script's output, split at its `=== name` lines."""
    steps, name = {}, None
    for line in output.splitlines(keepends=True):
        if line.startswith("=== "):
            name = line[4:].strip()
            steps[name] = ""
        elif name:
            steps[name] += line
    return steps


def test_a_read_only_archive_folder_is_one_clear_line(tmp_path):
    archive, view = tmp_path / "archive", tmp_path / "view"
    run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts" / "gardening.vtt"))
    view.mkdir()
    onrecord = f"{sys.executable} -m onrecord.ui --archive {view}"
    done = _in_own_mounts(f"""
        mount --bind {archive} {view} && mount -o remount,bind,ro {view} || exit 9
        for command in list "search water" "export gardening" "ingest {SAMPLES}/transcripts/chess-podcast.srt"; do
            echo "=== $command"; {onrecord} $command 2>&1; echo "exit $?"
        done""")
    assert done.returncode == 0, done.stderr
    steps = _steps(done.stdout)
    assert len(steps) == 4
    for command, output in steps.items():
        assert output.endswith("exit 1\n") and "Traceback" not in output, (command, output)
        assert f"cannot open archive folder {view}: the folder is read-only" in output, (command, output)
    listed = json.loads(run_cli("--archive", str(archive), "list", "--json").stdout)
    assert [i["title"] for i in listed] == ["gardening"], "the archive is untouched"


@pytest.mark.slow
def test_a_full_disk_stops_writes_cleanly_and_a_rerun_completes(tmp_path):
    """A 64 MiB tmpfs, filled to just above onrecord's floor, then a big transcript: it must stop with one
    line per source, keep what was committed, and finish once space is freed. (Without the floor, Chroma's
    embedded writer hangs forever on ENOSPC; that is why the floor exists.)"""
    big = _vtt(tmp_path / "big.vtt", 20_000, "boats, harbours and the weather at sea")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    onrecord = f"timeout 300 {sys.executable} -m onrecord.ui --archive {mnt}/archive"
    two = f"{big} {SAMPLES}/transcripts/chess-podcast.srt"
    done = _in_own_mounts(f"""
        export ONRECORD_MIN_FREE_MB=16
        mount -t tmpfs -o size=64m tmpfs {mnt} || exit 9
        {onrecord} ingest {SAMPLES}/transcripts/gardening.vtt --json >/dev/null || exit 8
        free=$(df -m --output=avail {mnt} | tail -1)
        dd if=/dev/zero of={mnt}/filler bs=1M count=$((free - 20)) status=none
        echo "=== full"; {onrecord} ingest {two} --json; echo "exit $?"
        echo "=== list"; {onrecord} list --json
        echo "=== search"; {onrecord} search "drip irrigation" --limit 1 --json
        rm {mnt}/filler
        echo "=== rerun"; {onrecord} ingest {two} --json; echo "exit $?"
        echo "=== after"; {onrecord} list --json""")
    assert done.returncode == 0, done.stdout + done.stderr
    steps = _steps(done.stdout)
    full = json_lines(steps["full"].rsplit("exit", 1)[0])
    assert steps["full"].endswith("exit 1\n") and [r["status"] for r in full] == ["failed", "failed"]
    assert all("the disk is nearly full" in r["error"] for r in full)
    assert [i["title"] for i in json.loads(steps["list"])] == ["gardening"]
    assert json.loads(steps["search"])[0]["title"] == "gardening"
    rerun = json_lines(steps["rerun"].rsplit("exit", 1)[0])
    assert steps["rerun"].endswith("exit 0\n") and [r["status"] for r in rerun] == ["added", "added"]
    after = {i["title"]: i for i in json.loads(steps["after"])}
    assert set(after) == {"gardening", "big", "chess-podcast"} and after["big"]["segments"] == 20_000
    assert "Traceback" not in done.stderr


FAILING_WRITER = """
import sys, threading
import onrecord.ingest.pipeline
from onrecord.search.errors import OnrecordError
from onrecord.search.store.archive import Archive
from onrecord.ui.cli import main

onrecord.ingest.pipeline.EMBED_BATCH = 4  # several chunk writes per interview: the third, mid-interview, fails
stage_chunks, writes = Archive.stage_chunks, []

def failing(self, *args, **kwargs):
    writes.append(threading.current_thread().name)
    if len(writes) == 3:
        raise OnrecordError(f"archive {self.location}: the chunk store broke")
    return stage_chunks(self, *args, **kwargs)

Archive.stage_chunks = failing
try:
    main(sys.argv[1:])
finally:
    print("writes on", sorted(set(writes)), file=sys.stderr)
"""


def test_a_write_failing_on_the_writer_thread_leaves_nothing_and_says_one_line(tmp_path):
    """Chunks are stored on a background thread while the next batch is embedded: a write that fails there
    must still stop that interview with one line, leave none of it staged or committed, and not stop the
    next source."""
    broken = _vtt(tmp_path / "harbours.vtt", 200, "harbours")
    archive = tmp_path / "archive"
    done = subprocess.run([sys.executable, "-c", FAILING_WRITER, "--archive", str(archive), "ingest", str(broken),
                           str(SAMPLES / "transcripts" / "gardening.vtt")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {broken}: archive {archive}: the chunk store broke"], done.stderr
    assert "Traceback" not in done.stderr
    assert "writes on ['onrecord-writer']" in done.stderr, "chunks are written on the writer's thread"
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    a = open_archive(Settings(archive=archive))
    assert [i.title for i in a.list()] == ["gardening"], "the failed interview is not committed"
    kept = a.list()[0].id
    leftovers = {m["interview_id"] for m in a.transcripts.get(include=["metadatas"])["metadatas"]}
    leftovers |= {m["interview_id"] for m in a.chunks().get(include=["metadatas"])["metadatas"]}
    assert leftovers == {kept}, "nothing of the failed interview stays staged"
