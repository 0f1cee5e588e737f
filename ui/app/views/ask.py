"""Ask: a chat whose answers are built from verified quotes. With an LLM the answer streams in, checked
sentence by sentence; each cited quote is a chip that plays exactly the quoted words."""

import streamlit as st

from onrecord.search.errors import OnrecordError
from onrecord.ui.app import resources
from onrecord.ui.app.widgets import escape, quote_chips

st.title("Ask")
answerer = resources.answerer()
interviews = resources.interviews()
if answerer.chat is None:
    st.caption(f"Extractive mode: {escape(answerer.why_no_chat or '')}. Answers are the best verbatim passages.")
else:
    st.caption(f"Answers by {escape(answerer.chat.name)}; every quote is checked against the transcript.")

if not interviews:
    st.info("Nothing to ask about yet: the archive is empty. Add your first interview, then ask what was said.")
    st.page_link("views/add.py", label="Add your first interview", icon=":material/add:")
    st.stop()
history = st.session_state.setdefault("chat", [])


def show(n: int, answer) -> None:
    if answer.mode != "llm":
        st.caption("Extractive answer" + (f" — {escape(answer.notice)}" if answer.notice else ""))
    elif answer.notice:
        st.caption(escape(answer.notice))
    st.markdown(escape(answer.answer))
    quote_chips(answer.quotes, interviews, scope=f"ask{n}")


for n, (question, answer) in enumerate(history):
    with st.chat_message("user"):
        st.markdown(escape(question))
    with st.chat_message("assistant"):
        show(n, answer)

if question := st.chat_input("Ask about what was said…"):
    with st.chat_message("user"):
        st.markdown(escape(question))
    with st.chat_message("assistant"):
        try:
            streamed = answerer.stream(question)
        except OnrecordError as exc:
            st.error(escape(str(exc)))  # it may quote the model server's reply
            st.stop()
        draft, text = st.empty(), ""
        for piece in streamed.pieces():
            text += piece
            draft.markdown(escape(text) + " ▌")
        draft.empty()
        history.append((question, streamed.answer))
        show(len(history) - 1, streamed.answer)
