"""Every human-facing surface: the `onrecord` CLI (and, later, the Streamlit app)."""
