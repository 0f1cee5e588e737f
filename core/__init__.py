"""onrecord: a searchable archive of what was said in interviews, podcasts and talks.

`Onrecord` is the whole library behind the CLI, the app, the HTTP API and the MCP server:

    from onrecord import Onrecord
    lib = Onrecord(archive="~/interviews")
    lib.ingest(["talk.mp3"])
    hits = lib.search("reusable rockets", limit=5)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("onrecord")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

from .library import Onrecord  # noqa: E402 - after __version__, which the surfaces read without the rest
from .policy import LLMChoice  # noqa: E402

__all__ = ["Onrecord", "LLMChoice", "__version__"]
