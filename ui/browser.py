"""`onrecord ui --open`: open the app in the user's browser once it answers, where there is a desktop.

The `ui` command becomes Streamlit (exec), so the waiting is done by a small process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import webbrowser


def has_desktop() -> bool:
    """On a Linux server without a display, webbrowser would start a text browser in the user's terminal."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_when_ready(url: str) -> None:
    if has_desktop():
        subprocess.Popen([sys.executable, "-m", "onrecord.ui.browser", url], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_healthy(url: str, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


if __name__ == "__main__":
    if wait_until_healthy(sys.argv[1]):
        webbrowser.open(sys.argv[1])
