"""``mockviking verify``: check a running server, mockviking or a real OpenViking, against the contract.

The command is a client of any server; it never imports Flask. Against ``--base-url`` it runs,
in order of the report:

1. **examples**: every ``requestBody`` example of the contract, sent to its operation with fresh
   session and account ids; the answer must be documented and match its response schema.
2. **properties**: schemathesis 4.x (its engine, as ``st run`` uses it) over every operation:
   positive and negative generation, the coverage and fuzzing phases, every default check
   that applies (not_a_server_error, status_code_conformance, content_type_conformance,
   response_schema_conformance, response_headers_conformance, positive_data_acceptance,
   negative_data_rejection, missing_required_header, unsupported_method,
   allow_header_conformance, object_level_authorization, ensure_resource_availability).
   Two allowances, both from the contract: an operation that declares a 501 may answer it,
   and one that declares a 412 may answer it to valid data (a finished task's cancel).
3. **stateful**: scenarios that follow the contract's OpenAPI links
   (``schema.as_state_machine()``), with the same checks (use_after_free is off: a write or
   ``auto_create=true`` brings a deleted session back, by design of the API).
4. **rules**: what no schema can say, each a named check whose failure names the difference:
   batch, commit, auto_create, isolation, error_codes.
5. **seed superset**: the fields the seed documents ask for beyond the real server's answers
   (``user.agent_id``, the eight ``memories_extracted`` categories, the five
   ``llm_token_usage`` counters, ``session_id``/``message_count``/``pending_tokens`` on add
   message), reported apart from drift because the real server omits some of them.

Credentials: ``--root-key`` provisions a fresh account ``verify-<random>`` with two users (so
isolation can be checked); ``--api-key`` uses that key for everything (admin operations then
answer 403, which the contract allows; isolation is skipped); a dev-mode server needs neither
(its identities come from ``X-OpenViking-Account``/``X-OpenViking-User``, fixed to valid
values, since a contract cannot make a header's schema depend on the server's mode).

Exit codes: 0 when every check holds, 1 on any difference, 2 on bad usage or an unreachable
server (``cannot reach URL: ...``). Progress goes to stderr, the Markdown summary to stdout
(and ``--markdown``), a JUnit XML report to ``--junit-xml``.

schemathesis and hypothesis are imported when the command runs: install
``mockviking[test]`` (or ``schemathesis``) to use it.

The package, one module per part: ``command`` (the click command), ``verifier`` (the run and
its bookkeeping), ``target`` (options, identities, setup), ``client`` (HTTP, the observer),
``checks`` (the contract's response schemas), a module per phase (``examples``,
``properties``, ``stateful``, ``rules``, ``superset``), ``reports`` (Markdown and JUnit).
"""

from mockviking.verify.command import verify

__all__ = ["verify"]
