"""onrecord's Streamlit app: the entry script only builds the navigation and runs the chosen page."""

import hmac
from pathlib import Path

import streamlit as st

from onrecord.search.errors import OnrecordError
from onrecord.ui.app import resources

VIEWS = Path(__file__).parent / "views"  # not "pages/": Streamlit would list that folder on its own

st.set_page_config(page_title="onrecord", page_icon=":material/mic:", layout="wide")


def signed_in() -> bool:
    """With ONRECORD_APP_PASSWORD set (required beyond loopback), each visitor enters it once per session."""
    password = resources.settings().app_password
    if password is None or st.session_state.get("signed_in"):
        return True
    st.title("onrecord")
    with st.form("sign-in"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary", icon=":material/login:"):
            if hmac.compare_digest(given.encode(), password.get_secret_value().encode()):
                st.session_state["signed_in"] = True
                st.rerun()
            st.error("That is not the password.")
    return False


if not signed_in():
    st.stop()
try:
    resources.archive()  # an archive that cannot be opened is one plain sentence, on every page
except OnrecordError as exc:
    st.error(str(exc))
    st.stop()
st.navigation([
    st.Page(VIEWS / "library.py", title="Library", icon=":material/video_library:", default=True),  # served at /
    st.Page(VIEWS / "interview.py", title="Interview", icon=":material/headphones:", url_path="interview"),
    st.Page(VIEWS / "search.py", title="Search", icon=":material/search:", url_path="search"),
    st.Page(VIEWS / "ask.py", title="Ask", icon=":material/forum:", url_path="ask"),
    st.Page(VIEWS / "topics.py", title="Topics", icon=":material/explore:", url_path="topics"),
    st.Page(VIEWS / "add.py", title="Add", icon=":material/add_circle:", url_path="add"),
    st.Page(VIEWS / "settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
]).run()
