"""The trust boundary: what a user of a shared surface (the app, the HTTP API) may make this server read, serve,
fetch or send. The CLI and the Python API act for the person running them, on their own machine, and read any path
they name; everything that arrives over a network goes through here, once, whichever surface it came in by."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from pydantic import SecretStr

from onrecord.ingest.netguard import refusal
from onrecord.ingest.sources import Source, expand, is_url
from onrecord.search.config import Settings
from onrecord.search.models import Interview

from .uploads import is_stored_upload


@dataclass(frozen=True, slots=True)
class LLMChoice:
    """An LLM chosen by one session of the app: model, server and key, in place of the environment's."""

    model: str | None
    base_url: str | None
    api_key: SecretStr | None  # in memory only: never written anywhere, never shown


@dataclass(frozen=True, slots=True)
class InputPolicy:
    settings: Settings

    @property
    def uploads_dir(self) -> Path:
        return self.settings.media_dir / "uploads"

    # -- what a remote user may add ------------------------------------------------------------------------

    def remote_sources(self, *, urls: Iterable[str] = (), folders: Iterable[str] = (),
                       uploads: Iterable[Path] = ()) -> list[Source]:
        """URLs stay URLs (a line that names a server path is refused, never walked), folders only under the
        configured roots, files only as uploads this server stored. A refused input is a failed source with its
        reason, so the rest of the batch carries on."""
        sources = [self._url_source(u.strip()) for u in urls if u.strip()]
        for folder in (f.strip() for f in folders if f.strip()):
            refused = self.folder_refused(folder)
            sources += [Source(ref=folder, kind="media", error=refused)] if refused else expand([folder])
        for path in uploads:
            ours = is_stored_upload(self.uploads_dir, path)
            sources += expand([str(path)]) if ours else [Source(ref=path.name, kind="media",
                                                                 error="not a file uploaded to this server")]
        return sources

    def _url_source(self, text: str) -> Source:
        """A URL as a source, refused at once when it names a server path or a local or private address (the
        fetchers check each redirect again)."""
        if not is_url(text):
            return Source(ref=text, kind="url", error="not a URL (http:// or https://): this field reads no files "
                          "on the server; upload them, or name a folder")
        refused = refusal(text, self.settings.allow_private_urls)
        return Source(ref=text, kind="url", error=f"refused: {refused}" if refused else None)

    def folder_refused(self, folder: str) -> str | None:
        """Why a remote user may not read `folder`, or None: a shared app or API reads only under
        ONRECORD_SERVER_FOLDERS (symlinks and ".." resolved first)."""
        roots = self.settings.folder_roots()
        if roots is None:
            return None
        where = Path(folder).expanduser().resolve()
        if any(where.is_relative_to(root) for root in roots):
            return None
        return f"{folder} is outside the folders this server may read ({', '.join(map(str, roots)) or 'none are set'})"

    # -- what a player may stream ---------------------------------------------------------------------------

    def servable(self, interview: Interview) -> Interview:
        """The interview as a shared surface may show it: its media kept when it is a URL, or a file this server
        may stream (under the media folder or a configured folder, or the very file the archive transcribed);
        otherwise none, so no player ever reads it."""
        media = interview.media
        if not media or is_url(media) or self.media_file(interview) is not None:
            return interview
        return replace(interview, media=None)

    def media_file(self, interview: Interview) -> Path | None:
        """The local file a player of `interview` may stream (its real path), or None."""
        media = interview.media
        if not media or is_url(media):
            return None
        try:
            real = Path(media).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_file():
            return None
        roots = [self.settings.media_dir.resolve(), *(self.settings.folder_roots() or [])]
        transcribed = interview.kind == "media" and not is_url(interview.source) and \
            os.path.realpath(interview.source) == str(real)
        return real if transcribed or any(real.is_relative_to(root) for root in roots) else None

    # -- where the LLM key may go ---------------------------------------------------------------------------

    def llm_settings(self, choice: LLMChoice | None) -> Settings:
        """The settings with a session's LLM choice in place of the environment's. The operator's key goes only
        to the server the operator configured: a session that names another server sends its own key or none."""
        base = self.settings
        if choice is None:
            return base
        same_server = (choice.base_url or None) == (base.llm_base_url or None)
        key = choice.api_key or (base.llm_api_key if same_server else None)
        return base.model_copy(update={"llm_model": choice.model, "llm_base_url": choice.base_url,
                                       "llm_api_key": key})
