"""The app as `onrecord ui` runs it: main.py's pages, and the route that streams local recordings (media.py).

`streamlit run` finds `app` below and serves it; main.py alone (`streamlit run ui/app/main.py`, AppTest) still works,
its players then reading local files the way st.audio does."""

from pathlib import Path

from streamlit.starlette import App

from onrecord.ui.app import media

app = App(Path(__file__).with_name("main.py"), routes=media.routes())
