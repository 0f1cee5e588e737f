"""The Streamlit app. `main.py` is the entry script; each page is a module in `views/`. `serve.py` is what
`onrecord ui` runs: main.py, plus the route that streams local recordings (media.py)."""
