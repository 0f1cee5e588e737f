"""The app as `onrecord ui` runs it: main.py's pages, and the route that streams local recordings (media.py).

`streamlit run` finds `app` below and serves it; main.py alone (`streamlit run ui/app/main.py`, AppTest) still works,
its players then reading local files the way st.audio does."""

import sys
from pathlib import Path

from streamlit.starlette import App

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # as in main.py: importable from a checkout

from ui.app import media  # noqa: E402 - after the path fix above

app = App(Path(__file__).with_name("main.py"), routes=media.routes())
