"""The ``mockviking`` command: serve the mock, or check fixture files.

Commands only build a :class:`Config` and call ``create_app``; a broken contract or fixture
file exits with code 2 and a message naming the file, the record and the reason.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import sys
from pathlib import Path

import click

from mockviking import __version__
from mockviking.contract.spec import SpecError, load_contract
from mockviking.domain.store import SessionStore
from mockviking.harness import violations
from mockviking.harness.config import Config
from mockviking.harness.fixtures import FixtureError, load_into
from mockviking.harness.persistence import StateFileError
from mockviking.serving.addresses import http_url, listen_address
from mockviking.serving.granian_server import granian_available, serve_on_granian
from mockviking.serving.tuning import tune_interpreter
from mockviking.serving.waitress_server import MockVikingServer
from mockviking.web.app import EXTENSION, create_app


class UsageProblem(click.ClickException):
    """A problem with what the user gave us: exit code 2, like click's own usage errors."""

    exit_code = 2


class _Commands(click.Group):
    """The commands, with ``verify`` imported only when it is asked for: it is the largest
    module of the CLI, and ``serve``, whose start-up is measured, never needs it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "verify"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "verify":
            from mockviking.verify import verify

            return verify
        return super().get_command(ctx, cmd_name)


#: The defaults the options show and pass on: they live in :class:`Config` only.
_DEFAULTS = Config()


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockviking")
def main() -> None:
    """A faithful, stateful stand-in for the OpenViking sessions HTTP API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=1933, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free one.")
@click.option("--fixtures", "fixtures", multiple=True, type=click.Path(dir_okay=False),
              help="YAML fixture file to load (repeatable). Default: the bundled fixtures.")
@click.option("--root-key", default=None, help="Root API key (overrides the fixtures' root_key).")
@click.option("--spec", "spec_path", default=None, type=click.Path(dir_okay=False),
              help="Contract to serve. Default: the bundled spec/openapi.yaml.")
@click.option("--seed", default=None, type=int, help="Seed for generated ids and keys.")
@click.option("--server", "server_name", type=click.Choice(["granian", "waitress"]), default=None,
              help="WSGI server. Default: granian (the fastest measured) where it can run (POSIX), "
                   "else waitress.")
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help="Threads running requests. Default: 1 on granian (the fastest: more queue for "
                   "Python's GIL), 8 on waitress. A fault rule's delay holds its thread, so raise it "
                   "when delayed requests must not hold up others.")
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False),
              help="At shutdown, write the requests that broke the contract to this file: JUnit XML "
                   "if it ends in .xml, JSON otherwise (repeatable).")
@click.option("--state-file", default=None, type=click.Path(dir_okay=False),
              help="Keep the state in this JSON file: restored at start-up, saved after every write.")
@click.option("--max-body-bytes", default=_DEFAULTS.max_body_bytes, show_default=True, type=click.IntRange(1),
              help="Largest request body accepted (larger answers 413).")
@click.option("--max-sessions-per-user", default=_DEFAULTS.max_sessions_per_user, show_default=True,
              type=click.IntRange(1),
              help="Most sessions one user may own (more answers 429).")
@click.option("--max-messages-per-user", default=_DEFAULTS.max_messages_per_user, show_default=True,
              type=click.IntRange(1),
              help="Most messages one user may store (more answers 429).")
@click.option("--control-token", default=None,
              help="Token the control API (/_mockviking) requires in X-Mockviking-Control-Token. "
                   "Off on loopback; generated (and printed) when binding beyond it.")
def serve(
    host: str,
    port: int,
    fixtures: tuple[str, ...],
    root_key: str | None,
    spec_path: str | None,
    seed: int | None,
    server_name: str | None,
    threads: int | None,
    reports: tuple[str, ...],
    state_file: str | None,
    max_body_bytes: int,
    max_sessions_per_user: int,
    max_messages_per_user: int,
    control_token: str | None,
) -> None:
    """Serve the mock until SIGINT or SIGTERM. The first line printed has the URL."""
    if control_token is None and not is_loopback(host):
        control_token = secrets.token_urlsafe(24)
    config = Config(
        spec_path=spec_path,
        fixtures=fixtures or None,
        root_key=root_key,
        seed=seed,
        control_token=control_token,
        state_file=state_file,
        max_body_bytes=max_body_bytes,
        max_sessions_per_user=max_sessions_per_user,
        max_messages_per_user=max_messages_per_user,
    )
    try:
        app = create_app(config)
    except (SpecError, FixtureError, StateFileError) as exc:
        raise UsageProblem(str(exc)) from exc
    if server_name is None:
        server_name = "granian" if granian_available() else "waitress"
    elif server_name == "granian" and not granian_available():
        raise UsageProblem("granian cannot serve here (it needs a POSIX system and the granian package); "
                           "use --server waitress")
    harness = app.extensions[EXTENSION]
    store = harness.store

    def announce(url: str) -> None:
        click.echo(f"mockviking {__version__} serving {url} ({store.auth_mode} mode)")
        if control_token is not None:
            click.echo(f"control API token (X-Mockviking-Control-Token): {control_token}")
        sys.stdout.flush()

    def write_reports() -> None:
        for path in reports:
            text = violations.to_junit(harness.violations) if path.endswith(".xml") else violations.to_json(
                harness.violations)
            Path(path).write_text(text, encoding="utf-8")
            click.echo(f"contract report ({len(harness.violations.all())} violation(s)) written to {path}")

    logging.basicConfig(level=logging.WARNING, format="mockviking: %(levelname)s %(message)s")
    if server_name == "granian":
        try:
            address, bound = listen_address(host, port)
        except OSError as exc:
            raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        tune_interpreter()
        url = http_url(address, bound)
        code = serve_on_granian(app, address, bound, threads=threads or 1, on_ready=lambda: announce(url),
                                on_stop=write_reports)
        if code:
            raise click.ClickException(f"granian stopped with exit code {code}")
    else:
        try:
            server = MockVikingServer(app, host, port, threads=threads or 8)
        except OSError as exc:
            raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        tune_interpreter()
        server.serve_forever(on_ready=lambda: announce(server.url))
        write_reports()
    click.echo("mockviking stopped")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@main.command("check-fixtures")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--spec", "spec_path", default=None, type=click.Path(dir_okay=False),
              help="Contract to check messages against. Default: the bundled one.")
def check_fixtures(files: tuple[str, ...], spec_path: str | None) -> None:
    """Check fixture files without serving; exit 2 naming the first problem.

    The files are loaded into a scratch store in order, as ``serve`` loads them, so a file
    passes exactly when ``serve`` would start on it.
    """
    try:
        contract = load_contract(spec_path)
        load_into(SessionStore(), files, contract)
    except (SpecError, FixtureError) as exc:
        raise UsageProblem(str(exc)) from exc
    click.echo(f"{len(files)} fixture file(s) OK")

