"""The ``mockviking verify`` click command: its options, and what it prints and writes."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from mockviking.contract.spec import default_spec_path
from mockviking.verify.reports import render_junit, render_markdown
from mockviking.verify.results import SELECTABLE_PHASES, VerifyUsageError
from mockviking.verify.target import Options
from mockviking.verify.verifier import Verifier


def _parse_phases(value: str) -> frozenset[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SELECTABLE_PHASES]
    if unknown or not names:
        raise click.BadParameter(f"{', '.join(unknown) or 'none given'}; choose among {', '.join(SELECTABLE_PHASES)}",
                                 param_hint="--phases")
    return frozenset(names)


def _require_schemathesis() -> None:
    try:
        import hypothesis  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as exc:
        raise VerifyUsageError(
            f"mockviking verify needs schemathesis and hypothesis ({exc}): pip install 'mockviking[test]'"
        ) from exc


@click.command("verify")
@click.option("--base-url", required=True, help="The running server to check, e.g. http://127.0.0.1:1933.")
@click.option("--api-key", default=None, help="A user key: session routes are called with it.")
@click.option("--root-key", default=None,
              help="A root key: fresh test users are provisioned with it (account verify-<random>).")
@click.option("--max-examples", default=20, show_default=True, type=click.IntRange(1, 10000),
              help="Generated requests per operation and phase; stateful scenarios.")
@click.option("--time-limit", default=300.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds for the whole run; the generated phases stop at their share of it.")
@click.option("--junit-xml", "junit_xml", default=None, type=click.Path(dir_okay=False),
              help="Write a JUnit XML report here (one testcase per check or operation).")
@click.option("--markdown", "markdown", default=None, type=click.Path(dir_okay=False),
              help="Also write the Markdown summary here.")
@click.option("--spec", "spec_path", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Contract to check against. Default: the bundled spec/openapi.yaml.")
@click.option("--seed", default=None, type=click.IntRange(0, 2**32 - 1),
              help="Seed of the generated requests (printed in the report; the same seed sends the same ones).")
@click.option("--phases", "phases", default=",".join(SELECTABLE_PHASES), show_default=True,
              callback=lambda ctx, param, value: _parse_phases(value),
              help="Comma-separated phases to run.")
def verify(
    base_url: str,
    api_key: str | None,
    root_key: str | None,
    max_examples: int,
    time_limit: float,
    junit_xml: str | None,
    markdown: str | None,
    spec_path: str | None,
    seed: int | None,
    phases: frozenset[str],
) -> None:
    """Check a RUNNING server against the contract: examples, schemathesis, links, domain rules.

    Exit code 0 when every check holds, 1 on any difference, 2 on bad usage or an unreachable URL.
    """
    if api_key is not None and root_key is not None:
        raise click.UsageError("give --api-key or --root-key, not both")
    _require_schemathesis()
    options = Options(
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        root_key=root_key,
        max_examples=max_examples,
        time_limit=time_limit,
        spec_path=Path(spec_path) if spec_path else default_spec_path(),
        seed=seed if seed is not None else secrets.randbelow(2**32),
        phases=phases,
    )

    def progress(line: str) -> None:
        click.echo(line, err=True)

    verifier = Verifier(options, progress)
    verifier.run()
    text = render_markdown(verifier)
    click.echo(text)
    for path, content in ((markdown, text.encode("utf-8")), (junit_xml, render_junit(verifier))):
        if path is not None:
            try:
                Path(path).write_bytes(content)
            except OSError as exc:
                raise VerifyUsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    failed = [r for r in verifier.results if r.failed]
    progress(f"verify: {len(verifier.results) - len(failed)} passed or skipped, {len(failed)} failed "
             f"in {verifier.seconds:.1f} s")
    if failed:
        click.get_current_context().exit(1)
