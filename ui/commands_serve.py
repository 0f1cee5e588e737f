"""`onrecord serve`: the HTTP JSON API (ui/api.py) on uvicorn, until Ctrl-C."""

from __future__ import annotations

import copy
import json

import click

from onrecord.search.config import is_loopback
from onrecord.search.errors import NoArchive, OnrecordError

from .cli_support import core_for, handle_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; beyond loopback "
              "(0.0.0.0) the API needs ONRECORD_API_TOKEN.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port; 0 picks a free one (--json says which).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A Host name clients reach the API by, besides 127.0.0.1, localhost, [::1] and --host; "
                   "repeatable. Requests for any other name are refused (DNS rebinding).")
@click.option("--json", "as_json", is_flag=True, help='Print {"url", "docs"} as JSON once the API listens.')
@click.pass_context
@handle_errors(stopped="the API server")
def serve(ctx, host, port, allowed_hosts, as_json):
    """Serve the archive as an HTTP JSON API until Ctrl-C: search, ask, transcripts, write-ups, ingest jobs.
    OpenAPI docs at /docs. With ONRECORD_API_TOKEN set, every request needs `Authorization: Bearer TOKEN`."""
    import uvicorn

    from .api import create_app

    core = core_for(ctx)
    settings = core.settings
    if not is_loopback(host) and not (settings.api_token and settings.api_token.get_secret_value()):
        raise OnrecordError(f"the API would listen on {host}, beyond this machine, with no token: set "
                            "ONRECORD_API_TOKEN (every request then sends it), or keep --host 127.0.0.1")
    try:
        core.archive()  # a server that cannot be reached stops here, in one line
    except NoArchive as exc:
        click.echo(f"note: {exc}; until then reads answer 503, and POST /api/ingest creates it", err=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        click.echo(f"note: listening on {host}, the API answers only requests for 127.0.0.1, localhost and [::1]; "
                   "name the others clients use with --allowed-host", err=True)
    logging = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    logging["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout is for --json alone
    config = uvicorn.Config(create_app(core, host, allowed_hosts), host=host, port=port, log_config=logging,
                            log_level="info", timeout_graceful_shutdown=5)
    _server(config, as_json).run()  # uvicorn takes Ctrl-C (and TERM) itself, shuts down, and returns
    click.echo("stopped the API server", err=True)


def _server(config, as_json: bool):
    """uvicorn's server, saying where it listens once its socket is bound (the port may have been 0)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started and as_json:
                port = self.servers[0].sockets[0].getsockname()[1]
                host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
                url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
                click.echo(json.dumps({"url": url, "docs": f"{url}/docs"}))

    return Server(config)
