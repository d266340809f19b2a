"""The reports of a run: the Markdown summary (stdout, ``--markdown``) and JUnit XML (``--junit-xml``)."""

from __future__ import annotations

import re
import typing as t
import xml.etree.ElementTree as ET

from mockviking import __version__
from mockviking.verify.results import PHASES, Result

if t.TYPE_CHECKING:
    from mockviking.verify.verifier import Verifier


def summary_counts(results: t.Sequence[Result]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        row = counts.setdefault(result.phase, {"passed": 0, "failed": 0, "skipped": 0})
        row[result.status] += 1
    return counts


def render_markdown(verifier: Verifier) -> str:
    """The Markdown summary of a run."""
    options, target, results = verifier.options, verifier.target, verifier.results
    drift = [r for r in results if r.failed and r.phase != "superset"]
    superset = [r for r in results if r.failed and r.phase == "superset"]
    lines = [f"# mockviking verify: {options.base_url}", ""]
    verdict = "PASSED: every check holds" if not drift and not superset else (
        f"FAILED: {len(drift)} check(s) with drift, {len(superset)} seed superset finding(s)")
    lines.append(f"**{verdict}**")
    lines.append("")
    when = verifier.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines.append(f"- date: {when}; took {verifier.seconds:.1f} s (--time-limit {options.time_limit:.0f} s)")
    if target is not None:
        lines.append(f"- server: {target.mode} mode, version {target.version} (from GET /health)")
        lines.append(f"- credentials: {target.credentials}; user A `{target.user_a.account_id}/"
                     f"{target.user_a.user_id}`"
                     + (f", user B `{target.user_b.account_id}/{target.user_b.user_id}`" if target.user_b else "")
                     + f"; admin operations for account `{target.account_id}`")
    version = verifier.contract.document.get("info", {}).get("version", "?")
    lines.append(f"- contract: `{options.spec_path}` (version {version})")
    lines.append(f"- seed {options.seed}, --max-examples {options.max_examples}; "
                 f"mockviking {__version__}, schemathesis {_schemathesis_version()}")
    lines.append(f"- requests: {verifier.http.sent} sent by setup, examples and rules, "
                 f"{verifier.observer.answers} answers observed in all")
    lines.append("")
    lines.append("| phase | passed | failed | skipped |")
    lines.append("|---|---:|---:|---:|")
    counts = summary_counts(results)
    for phase, title in PHASES.items():
        if phase in counts:
            row = counts[phase]
            lines.append(f"| {title} | {row['passed']} | {row['failed']} | {row['skipped']} |")
    lines.append("")
    if drift:
        lines.append("## Drift")
        lines.append("")
        for result in drift:
            lines.extend(_markdown_failure(result))
    if superset:
        lines.append("## Seed superset findings")
        lines.append("")
        lines.append("Fields the seed documents ask for beyond the real server's answers; mockviking returns "
                     "them, the real OpenViking 0.5.x omits some.")
        lines.append("")
        for result in superset:
            lines.extend(_markdown_failure(result))
    if target is not None and target.notes:
        lines.append("## Notes")
        lines.append("")
        lines.extend(f"- {note}" for note in target.notes)
        lines.append("")
    lines.append("## Every check")
    lines.append("")
    lines.append("| phase | check | result | detail |")
    lines.append("|---|---|---|---|")
    for phase in PHASES:
        for result in results:
            if result.phase != phase:
                continue
            lines.append(f"| {phase} | {_cell(result.name)} | {result.status} | {_cell(result.headline[:200])} |")
    lines.append("")
    return "\n".join(lines)


def _markdown_failure(result: Result) -> list[str]:
    lines = [f"### [{result.phase}] {result.name}", ""]
    for finding in result.findings:
        first, *rest = finding.text.splitlines() or [""]
        lines.append(f"- {first}")
        lines.extend(f"  {line}" for line in rest if line.strip())
        if finding.evidence:
            lines.append("")
            lines.append("  ```")
            for item in finding.evidence:
                lines.extend(f"  {line}" for line in item.splitlines())
                lines.append("")
            lines[-1] = "  ```"
        lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


#: What XML 1.0 cannot carry, even escaped: control characters, lone surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` with what XML cannot carry written as ``\\xNN`` / ``\\uNNNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def render_junit(verifier: Verifier) -> bytes:
    """A JUnit XML report: a testsuite per phase, a testcase per check or operation."""
    root = ET.Element("testsuites", name="mockviking verify")
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for phase, title in PHASES.items():
        results = [r for r in verifier.results if r.phase == phase]
        if not results:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"verify.{phase}")
        suite.set("tests", str(len(results)))
        suite.set("failures", str(sum(r.failed for r in results)))
        suite.set("skipped", str(sum(r.status == "skipped" for r in results)))
        suite.set("errors", "0")
        suite.set("time", f"{sum(r.seconds for r in results):.3f}")
        for key in total:
            total[key] += int(suite.get(key, "0"))
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="title", value=title)
        ET.SubElement(properties, "property", name="base_url", value=_xml_text(verifier.options.base_url))
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"verify.{phase}", name=_xml_text(result.name))
            case.set("time", f"{result.seconds:.3f}")
            if result.failed:
                failure = ET.SubElement(case, "failure", message=_xml_text((result.headline or "failed")[:500]),
                                        type="seed-superset" if phase == "superset" else "drift")
                failure.text = _xml_text("\n\n".join("\n".join([finding.text, *finding.evidence])
                                                     for finding in result.findings))
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=_xml_text(result.detail))
            elif result.detail:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_text(result.detail)
    for key, value in total.items():
        root.set(key, str(value))
    root.set("time", f"{verifier.seconds:.3f}")
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def _schemathesis_version() -> str:
    try:
        from importlib.metadata import version

        return version("schemathesis")
    except Exception:  # noqa: BLE001 - only for the report
        return "?"
