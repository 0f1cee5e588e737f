"""Settings: a visitor can choose the LLM for their own session here; the rest is what this app is using. A key
typed here is kept in this session's memory only and never shown back; the operator's key (from the environment)
goes only to the server the operator configured."""

import streamlit as st
from pydantic import SecretStr

from onrecord import LLMChoice
from onrecord.search.store import is_server
from onrecord.search.writeups.llm import LLMError, Message
from onrecord.ui.app import resources
from onrecord.ui.app.widgets import escape

st.title("Settings")
settings = resources.settings()
archive = resources.archive()
llm = resources.llm_settings()
answerer = resources.answerer()
chosen_here = resources.llm_choice() is not None

st.subheader("LLM")
if st.session_state.pop("llm_applied", False):
    st.success("Applied to this session: your answers and write-ups now use these LLM settings.",
               icon=":material/check:")
if answerer.chat:
    where = "on this page" if chosen_here else "by the environment"
    st.markdown(f"Answers and summaries by **{escape(answerer.chat.name)}** at "
                f"{escape(llm.llm_base_url or 'OpenAI')}, set {where}.")
elif llm.llm_model or llm.llm_base_url or llm.llm_api_key:  # one was asked for, and it cannot be used
    st.warning(f"No LLM is in use: {escape(answerer.why_no_chat)}. Ask and Topics give verbatim passages until the "
               "settings below are fixed.", icon=":material/warning:")
else:
    st.info("No LLM is in use, so Ask and Topics give verbatim passages instead of written answers. To use "
            "one, enter its model below, with its server for a local or other OpenAI-compatible one (Ollama, "
            "llama.cpp, vLLM) or an API key for OpenAI.", icon=":material/info:")

with st.form("llm", clear_on_submit=True):
    model = st.text_input("Model", value=llm.llm_model or "", placeholder="e.g. gpt-4o-mini, llama3.1:8b")
    base_url = st.text_input("Server (base URL)", value=llm.llm_base_url or "",
                             placeholder="empty: OpenAI; e.g. http://localhost:11434/v1 for Ollama")
    key = st.text_input("API key", type="password",
                        placeholder="set; leave empty to keep it" if llm.llm_api_key else "not set",
                        help="Kept in this session's memory only: never written to disk, never shown. The key "
                        "this app was started with is sent only to the server it was started with.")
    typed = resources.llm_choice().api_key if chosen_here else None  # a key this session typed before
    forget = st.checkbox("Forget the API key typed here") if typed else False
    applied = st.form_submit_button("Apply to this session", icon=":material/check:", type="primary")

if applied:
    base_url = base_url.strip()
    if base_url and not base_url.lower().startswith(("http://", "https://")):
        st.error("The server must be a URL starting with http:// or https://, such as http://localhost:11434/v1.")
    else:
        api_key = SecretStr(key.strip()) if key.strip() else None if forget else typed
        resources.choose_llm(LLMChoice(model.strip() or None, base_url or None, api_key))
        st.session_state["llm_applied"] = True
        st.rerun()

if chosen_here:
    st.caption("Chosen on this page for this session only; other visitors keep their own. A key stays in memory.")
    if st.button("Back to the environment's settings", icon=":material/restart_alt:"):
        resources.choose_llm(None)
        st.session_state["llm_applied"] = True
        st.rerun()
if answerer.chat and st.button("Check the LLM", icon=":material/network_check:"):
    with st.spinner(f"Asking {answerer.chat.name}…"):
        try:
            reply = answerer.chat.complete([Message("user", "Reply with the single word OK.")], max_tokens=5)
        except LLMError as exc:
            st.error(str(exc))
        else:
            st.success(f"{answerer.chat.name} answered: {escape(reply.strip()[:80])}")

st.subheader("This app")
rows = {
    "Archive": archive.location,
    "Archive mode": "Chroma server" if is_server(archive.location) else "embedded (a folder)",
    "Whisper model": settings.whisper_model,
    "Device / compute type": f"{settings.device} / {settings.compute_type}",
    "Embedding model": archive.embed_model or settings.embed_model
    or "all-MiniLM-L6-v2 (when the first interview arrives)",
    "LLM": answerer.chat.name if answerer.chat else f"none — {answerer.why_no_chat}",
    "LLM server": llm.llm_base_url or ("OpenAI" if answerer.chat else "—"),
    "LLM API key": "set" if llm.llm_api_key else "not set",
    "LLM chosen by": "this page" if chosen_here else "the environment",
    "Uploads kept in": str(settings.media_dir),
    "Upload limit": f"{st.get_option('server.maxUploadSize')} MB per file",
}
st.table({"setting": list(rows), "value": list(rows.values())})
st.caption("Everything but the LLM is set with ONRECORD_* environment variables (or a .env file) before starting "
           "`onrecord ui`.")
