r"""The compiled precheck against jsonschema-rs, on the contract's own request-body schemas.

    python benchmarks/precheck.py [--rounds 9] [--round-ms 40] [--examples 1000] [--seed 0] [--part both]

Needs ``pip install -e '.[test,bench]'``: jsonschema-rs comes with the bench extra, and the
agreement check reuses the instance generators of ``tests/unit/test_precheck.py``.

Each body schema is the one mockviking validates against: ``OperationValidator`` (what
``create_app`` builds per operation) takes the inlined schema from ``Contract.validator``
and hands it to ``lazy_precheck``; this script reads both from that object.

1. **Time.** For each valid body (every request example of the contract, and the
   benchmark's own messages: one, a batch of 10 and a batch of 100), microseconds per call,
   the median (and the fastest) of ``--rounds`` rounds of timeit, each about ``--round-ms``,
   all in this one process: the precheck as a request calls it (the lazy wrapper), the
   compiled function itself, ``jsonschema_rs`` ``is_valid`` (Draft 2020-12, a validator
   built once) and plain jsonschema's ``is_valid`` as the baseline.
2. **Agreement.** For every operation with a body schema: generated instances (near-valid,
   broken and arbitrary ones, from ``tests/unit/test_precheck.py``), and probes: each string
   or number of the contract's examples, of a few hand-made valid bodies (``EXTRA_BASES``)
   and of up to ``--probe-bases`` small valid generated instances, varied with a character
   on which Python's ``re`` and ECMA 262 regular expressions part (``$`` before a final
   newline, which characters ``\s`` takes) or a lone surrogate. Each instance is checked by
   all three, as it stands and after mockviking's ``x-coerce`` step (as a request's body
   reaches the precheck). jsonschema is the judge; a disagreement is *unsafe* (jsonschema-rs
   says valid where jsonschema refuses: a bad request would skip validation), *slow*
   (jsonschema-rs refuses a valid body, which would only go on to jsonschema), or
   jsonschema-rs raises.
"""

from __future__ import annotations

import argparse
import collections
import copy
import dataclasses
import importlib.metadata
import json
import statistics
import sys
import timeit
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(HERE))

import jsonschema_rs  # noqa: E402
import run  # noqa: E402  (benchmarks/run.py: the benchmark's messages)
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from mockviking.contract.precheck import compile_precheck  # noqa: E402
from mockviking.contract.spec import Contract, Operation, load_contract  # noqa: E402
from mockviking.contract.validation import OperationValidator  # noqa: E402

Check = t.Callable[[t.Any], bool]


@dataclasses.dataclass
class Checks:
    """The three yes/no answers for one operation's body schema, as mockviking builds it."""

    operation: Operation
    validator: OperationValidator
    schema: t.Any
    precheck: Check  # as a request calls it
    compiled: Check  # the generated function itself
    rs: Check
    baseline: Check  # plain jsonschema

    @classmethod
    def of(cls, contract: Contract, operation: Operation) -> Checks:
        validator = OperationValidator(contract, operation)
        body, precheck = validator._body, validator._body_precheck
        assert body is not None
        assert precheck is not None
        compiled = compile_precheck(body.schema)
        assert compiled is not None, f"{operation.operation_id}: the body schema does not compile"
        return cls(operation, validator, body.schema, precheck, compiled,
                   jsonschema_rs.Draft202012Validator(t.cast(t.Any, body.schema)).is_valid, body.is_valid)

    def coerced(self, value: t.Any) -> t.Any:
        coercer = self.validator._coercer
        return value if coercer is None else coercer.coerce(copy.deepcopy(value))


def example_bodies(contract: Contract, operation: Operation) -> dict[str, t.Any]:
    """The request examples the contract gives for ``operation``, by name."""
    assert operation.body_pointer is not None
    media = contract.schema_at(operation.body_pointer.rsplit("/schema", 1)[0])
    return {name: example["value"] for name, example in media.get("examples", {}).items()}


# -- time -------------------------------------------------------------------------------------


def per_call_us(func: Check, value: t.Any, rounds: int, round_s: float) -> tuple[float, float]:
    """Microseconds per call: the median round and the fastest."""
    timer = timeit.Timer("func(value)", globals={"func": func, "value": value})
    number, took = timer.autorange()
    number = max(1, int(number * round_s / took))
    times = [took / number * 1e6 for took in timer.repeat(repeat=rounds, number=number)]
    return statistics.median(times), min(times)


def timing_rows(contract: Contract, checks: dict[str, Checks], opts: argparse.Namespace) -> list[list[str]]:
    bodies: list[tuple[str, str, t.Any]] = []
    for op_id, check in checks.items():
        bodies += [(op_id, f"example {name}", body) for name, body in example_bodies(contract, check.operation).items()]
    bodies += [
        ("add_message", "1 bench message", run.messages(1)[0]),
        ("batch_add_messages", "10 bench messages", {"messages": run.messages(10)}),
        ("batch_add_messages", "100 bench messages", {"messages": run.messages(100)}),
    ]
    rows = []
    round_s = opts.round_ms / 1000
    floor, _ = per_call_us(lambda value: True, None, opts.rounds, round_s)
    for op_id, label, body in bodies:
        check = checks[op_id]
        answers = {check.precheck(body), check.compiled(body), check.rs(body), check.baseline(body)}
        note = "" if answers == {True} else f"  (not valid everywhere: {sorted(answers)})"
        times = [per_call_us(func, body, opts.rounds, round_s)
                 for func in (check.precheck, check.compiled, check.rs, check.baseline)]
        rows.append([op_id, label + note, str(len(json.dumps(body))),
                     *(f"{median:.2f} ({best:.2f})" for median, best in times), f"{times[2][0] / times[1][0]:.2f}"])
    print(f"(a call to a function that does nothing costs {floor:.3f} µs here; it is in every column)")
    return rows


# -- agreement --------------------------------------------------------------------------------

#: Where Python's re (jsonschema's and the precheck's) and jsonschema-rs's ECMA 262 dialect
#: may part: ``$`` before a final newline, and which characters ``\s`` / ``\S`` take.
EDGES = ["\n", "\ufeff", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "\x0b"]
LONE_SURROGATE = "\ud800"


def _leaves(value: t.Any, path: tuple[t.Any, ...] = ()) -> t.Iterator[tuple[tuple[t.Any, ...], t.Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _replace(value: t.Any, path: tuple[t.Any, ...], new: t.Any) -> t.Any:
    if not path:
        return new
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[path[0]] = _replace(value[path[0]], path[1:], new)
    return copied


def probes(bodies: t.Iterable[t.Any]) -> list[tuple[t.Any, str]]:
    """Each string or number of each body varied on the regex dialects' edges, each variant
    with the edge character it carries."""
    out = []
    for body in bodies:
        for path, leaf in _leaves(body):
            if isinstance(leaf, bool) or not isinstance(leaf, (str, int)):
                continue
            text = str(leaf)
            for edge in [*EDGES, LONE_SURROGATE]:
                # After, before, instead of the last or the first character, alone.
                variants = [text + edge, edge + text, text[:-1] + edge, edge + text[1:], edge]
                if edge == LONE_SURROGATE:
                    variants = [text + edge]
                out += [(_replace(body, path, variant), repr(edge)) for variant in variants]
    return out


#: Valid bodies reaching places the generator seldom fills validly (a tag must meet three
#: patterns at once), probed beside the examples.
EXTRA_BASES: dict[str, list[t.Any]] = {
    "commit_session": [{"extraction_metadata": {"event": {"tags": ["k=v"]}}}],
}


def covering(values: t.Iterable[t.Any], limit: int) -> list[t.Any]:
    """Up to ``limit`` of ``values``, the shortest first, each reaching a string or number at
    a place (list indexes aside) none chosen before reached."""
    chosen: list[t.Any] = []
    reached: set[tuple[t.Any, ...]] = set()
    for value in sorted(values, key=lambda v: len(repr(v))):
        places = {
            tuple("[]" if isinstance(step, int) else step for step in path)
            for path, leaf in _leaves(value)
            if isinstance(leaf, (str, int)) and not isinstance(leaf, bool)
        }
        if places - reached and len(chosen) < limit:
            chosen.append(value)
            reached |= places
    return chosen


def generated(pointer: str, examples: int, at: int) -> list[t.Any]:
    """``examples`` instances from tests/unit/test_precheck.py's generator, seeded."""
    from tests.unit.test_precheck import instances

    found: list[t.Any] = []

    @seed(at)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(instances(pointer))
    def collect(value: t.Any) -> None:
        found.append(copy.deepcopy(value))

    collect()
    return found


@dataclasses.dataclass
class Tally:
    checked: int = 0
    valid: int = 0
    precheck_off: int = 0
    unsafe: int = 0
    slow: int = 0
    raised: int = 0
    #: (kind, source): the shortest case of that kind from that source.
    seen: dict[tuple[str, str], t.Any] = dataclasses.field(default_factory=dict)
    #: (kind, where the instance came from: "generated" or a probe's edge character): count.
    by_source: collections.Counter[tuple[str, str]] = dataclasses.field(default_factory=collections.Counter)

    def note(self, kind: str, value: t.Any, source: str) -> None:
        """Count one case, keeping the shortest of its kind and source (the easiest to read)."""
        setattr(self, kind, getattr(self, kind) + 1)
        self.by_source[kind, source] += 1
        known = self.seen.get((kind, source))
        if known is None or len(repr(value)) < len(repr(known)):
            self.seen[kind, source] = value

    def shortest(self, kind: str, keep: int) -> list[t.Any]:
        """Up to ``keep`` cases of ``kind``, each from another source, the shortest first."""
        cases = sorted((value for (k, _), value in self.seen.items() if k == kind), key=lambda v: len(repr(v)))
        return cases[:keep]

    def add(self, check: Checks, value: t.Any, source: str) -> None:
        self.checked += 1
        self.by_source["checked", source] += 1
        valid = check.baseline(value)
        self.valid += valid
        if check.precheck(value) != valid:
            self.note("precheck_off", value, source)
        try:
            fast = check.rs(value)
        except Exception as exc:  # noqa: BLE001 - counted and shown
            self.note("raised", (value, f"{type(exc).__name__}: {exc}"[:60]), source)
            return
        if fast and not valid:
            self.note("unsafe", value, source)
        elif valid and not fast:
            self.note("slow", value, source)


KINDS = ("precheck_off", "unsafe", "slow", "raised")


def agreement(contract: Contract, checks: dict[str, Checks], opts: argparse.Namespace) -> tuple[list[list[str]], str]:
    rows, details = [], []
    sources: collections.Counter[tuple[str, str]] = collections.Counter()
    for op_id, check in checks.items():
        assert check.operation.body_pointer is not None
        made = generated(check.operation.body_pointer, opts.examples, opts.seed)
        bases = [*example_bodies(contract, check.operation).values(), *EXTRA_BASES.get(op_id, [])]
        bases += covering((v for v in made if len(repr(v)) <= 1000 and check.baseline(check.coerced(v))),
                          opts.probe_bases)
        values = [(value, "generated") for value in made] + probes(bases)
        for stage in ("as sent", "coerced"):
            tally = Tally()
            for value, source in values:
                tally.add(check, value if stage == "as sent" else check.coerced(value), source)
            rows.append([op_id, stage, str(tally.checked), str(tally.valid),
                         *(str(getattr(tally, kind)) for kind in KINDS)])
            if stage == "coerced":
                sources.update(tally.by_source)
                for kind in KINDS:
                    # Every unsafe source (each is a bad request let in); a few of the others.
                    cases = tally.shortest(kind, keep=len(EDGES) + 2 if kind == "unsafe" else 3)
                    details += [f"  {op_id} {kind}: {_short(value)}" for value in cases]
    by_source = [[source, *(str(sources[kind, source]) for kind in ("checked", *KINDS))]
                 for source in dict.fromkeys(source for _, source in sorted(sources))]
    summary = table(["instances from", "checked", "precheck differs", "rs unsafe", "rs slow", "rs raises"], by_source)
    shortest = "The shortest cases of each kind (one per source), as the precheck sees them (coerced):"
    return rows, "\n".join([summary, "", shortest, *details])


def _short(value: t.Any, width: int = 150) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# -- output -----------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in [header, *rows]
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="timeit rounds per cell (the median is shown)")
    parser.add_argument("--round-ms", type=float, default=40, help="about how long each round runs")
    parser.add_argument("--examples", type=int, default=1000, help="generated instances per operation")
    parser.add_argument("--probe-bases", type=int, default=30,
                        help="valid generated instances per operation whose leaves are probed, beside the examples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=["time", "agreement", "both"], default="both")
    opts = parser.parse_args(argv)

    contract = load_contract()
    checks = {op.operation_id: Checks.of(contract, op) for op in contract.operations if op.body_pointer}
    print(f"python {sys.version.split()[0]}, jsonschema {importlib.metadata.version('jsonschema')}, "
          f"jsonschema-rs {importlib.metadata.version('jsonschema-rs')}")
    if opts.part in ("time", "both"):
        print()
        print(f"µs per call on valid bodies: median of {opts.rounds} rounds (fastest round); rs/compiled: the "
              "medians of jsonschema-rs over the compiled precheck")
        rows = timing_rows(contract, checks, opts)
        print(table(["operation", "body", "bytes", "precheck", "compiled", "jsonschema_rs", "jsonschema",
                     "rs/compiled"], rows))
    if opts.part in ("agreement", "both"):
        print()
        print(f"Agreement with jsonschema ({opts.examples} generated instances per operation, seed {opts.seed}, "
              "plus probes of the examples)")
        rows, details = agreement(contract, checks, opts)
        print(table(["operation", "instances", "checked", "valid", "precheck differs", "rs unsafe", "rs slow",
                     "rs raises"], rows))
        print("\nBy where the instance came from (coerced, every operation):")
        print(details)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
