"""The Streamlit app. `main.py` is the entry script; each page is a module in `pages/`."""
