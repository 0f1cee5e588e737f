"""Settings: what this app is using. Secrets are never shown."""

import streamlit as st

from search.store import is_server
from ui.app import resources

st.title("Settings")
settings = resources.settings()
archive = resources.archive()
answerer = resources.answerer()
rows = {
    "Archive": archive.location,
    "Archive mode": "Chroma server" if is_server(archive.location) else "embedded (a folder)",
    "Whisper model": settings.whisper_model,
    "Device / compute type": f"{settings.device} / {settings.compute_type}",
    "Embedding model": archive.embed_model or settings.embed_model
    or "all-MiniLM-L6-v2 (when the first interview arrives)",
    "LLM": answerer.chat.name if answerer.chat else f"none — {answerer.why_no_chat}",
    "LLM server": settings.llm_base_url or ("OpenAI" if answerer.chat else "—"),
    "LLM API key": "set" if settings.llm_api_key else "not set",
    "Uploads kept in": str(settings.media_dir),
    "Upload limit": f"{st.get_option('server.maxUploadSize')} MB per file",
}
st.table({"setting": list(rows), "value": list(rows.values())})
st.caption("Change these with ONRECORD_* environment variables (or a .env file) before starting `onrecord ui`.")
