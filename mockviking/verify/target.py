"""The server under test: the run's options, the server's mode, and who requests are sent as.

The setup phase lives here because it is what finds those identities: it reads ``GET /health``,
then provisions test users with a root key, checks a user key, or uses dev-mode headers.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t
from pathlib import Path

from mockviking.verify.client import Unreachable, clip
from mockviking.verify.results import Finding, Result, VerifyUsageError

if t.TYPE_CHECKING:
    from mockviking.verify.verifier import Verifier


@dataclasses.dataclass
class Options:
    base_url: str
    api_key: str | None
    root_key: str | None
    max_examples: int
    time_limit: float
    spec_path: Path
    seed: int
    #: The phases to run (all of SELECTABLE_PHASES by default).
    phases: frozenset[str] = frozenset()


@dataclasses.dataclass
class Identity:
    """Who a request is sent as: its headers, and the account/user it resolves to."""

    name: str
    headers: dict[str, str]
    account_id: str
    user_id: str


@dataclasses.dataclass
class Target:
    """The server under test, as the setup found it."""

    base_url: str
    mode: str  # "api_key" or "dev"
    credentials: str  # "root key", "api key" or "none (dev mode)"
    version: str
    run_id: str
    user_a: Identity
    user_b: Identity | None
    root_headers: dict[str, str] | None
    #: The account admin operations are sent for: the provisioned one with a root key; with a
    #: user key, an account that does not exist, so an admin key never adds users to its own.
    account_id: str
    notes: list[str] = dataclasses.field(default_factory=list)

    def session_id(self, label: str) -> str:
        return f"verify-{self.run_id}-{label}"


def dev_headers(account: str, user: str) -> dict[str, str]:
    return {"X-OpenViking-Account": account, "X-OpenViking-User": user}


def identity_headers(identity: Identity) -> dict[str, str]:
    return dev_headers(identity.account_id, identity.user_id)


def identity_parameters(identity: Identity) -> dict[str, str]:
    """The identity headers as schemathesis parameter overrides."""
    return {f"header.{name}": value for name, value in identity_headers(identity).items()}


# -- setup --------------------------------------------------------------------------------------


def setup(v: Verifier) -> Target:
    """Find the server's mode, and the identities to send requests as."""
    options = v.options
    v.progress(f"[setup] checking {options.base_url}")
    try:
        health = v.http.request("GET", "/health", source="setup")
    except Unreachable as exc:
        raise VerifyUsageError(f"cannot reach URL: {options.base_url} ({exc})") from exc
    info = health.json if isinstance(health.json, dict) else {}
    mode = info.get("auth_mode")
    version = str(info.get("version", "?"))
    if health.status != 200 or mode not in ("api_key", "dev"):
        v.add(Result("setup", "health", "failed",
                     findings=[Finding("GET /health did not answer 200 with auth_mode api_key or dev",
                                       [health.describe()])], requests=1))
        if mode not in ("api_key", "dev"):
            mode = "dev" if options.api_key is None and options.root_key is None else "api_key"
    run_id = secrets.token_hex(4)
    account = f"verify-{run_id}"
    notes: list[str] = []
    if mode == "dev":
        if options.api_key or options.root_key:
            notes.append("The server runs in dev mode: the given key is not used; identities come from "
                         "X-OpenViking-Account / X-OpenViking-User.")
        a = Identity("user A", dev_headers(account, "verify-a"), account, "verify-a")
        b = Identity("user B", dev_headers(account, "verify-b"), account, "verify-b")
        target = Target(options.base_url, "dev", "none (dev mode)", version, run_id, a, b, None, account, notes)
    elif options.root_key is not None:
        target = _provision(v, options.root_key, version, run_id, account, notes)
    elif options.api_key is not None:
        target = _with_api_key(v, options.api_key, version, run_id, notes)
    else:
        raise VerifyUsageError(
            f"{options.base_url} runs in api_key mode: give --api-key KEY (a user key) or "
            "--root-key KEY (to provision fresh test users)"
        )
    v.add(Result("setup", "identities", "passed",
                 detail=f"{target.mode} mode, {target.credentials}, user A "
                        f"{target.user_a.account_id}/{target.user_a.user_id}"))
    return target


def _whoami(v: Verifier, key: str, option: str) -> dict[str, t.Any]:
    ex = v.http.request("GET", "/health", headers={"X-API-Key": key}, source="setup")
    if ex.status in (401, 403):
        raise VerifyUsageError(f"{option} was refused by the server: {ex.status} {clip(ex.body, 300)}")
    info = ex.json
    return info if isinstance(info, dict) else {}


def _provision(v: Verifier, root_key: str, version: str, run_id: str, account: str, notes: list[str]) -> Target:
    role = _whoami(v, root_key, "--root-key").get("role")
    if role not in (None, "root"):
        raise VerifyUsageError(f"--root-key is not a root key (the server says role {role!r}); use --api-key")
    root = {"X-API-Key": root_key}
    created = v.http.request("POST", "/api/v1/admin/accounts", headers=root, source="setup",
                             body={"account_id": account, "admin_user_id": "verify-a"})
    if created.status in (401, 403):
        raise VerifyUsageError(f"--root-key may not create accounts: {created.status} {clip(created.body, 300)}")
    key_a = (created.result or {}).get("user_key") if isinstance(created.result, dict) else None
    added = v.http.request("POST", f"/api/v1/admin/accounts/{account}/users", headers=root,
                           source="setup", body={"user_id": "verify-b", "role": "user"})
    key_b = (added.result or {}).get("user_key") if isinstance(added.result, dict) else None
    if not isinstance(key_a, str) or not isinstance(key_b, str):
        raise VerifyUsageError(
            "cannot provision test users with --root-key:\n" + created.describe() + "\n" + added.describe()
        )
    notes.append(f"Provisioned account {account} (admin verify-a, user verify-b) with the root key; "
                 "the real server keeps it after the run.")
    v.keep_secret(key_a, key_b)
    a = Identity("user A (verify-a, admin)", {"X-API-Key": key_a}, account, "verify-a")
    b = Identity("user B (verify-b, user)", {"X-API-Key": key_b}, account, "verify-b")
    return Target(v.options.base_url, "api_key", "root key", version, run_id, a, b, root, account, notes)


def _with_api_key(v: Verifier, key: str, version: str, run_id: str, notes: list[str]) -> Target:
    info = _whoami(v, key, "--api-key")
    if info.get("role") == "root":
        raise VerifyUsageError("--api-key is the root key, which session routes refuse: use --root-key")
    account = str(info.get("account_id") or "default")
    user = str(info.get("user_id") or "default")
    notes.append("Only one key was given (--api-key): the isolation rule needs two users and is skipped; "
                 "give --root-key to check it.")
    a = Identity(f"{account}/{user}", {"X-API-Key": key}, account, user)
    return Target(v.options.base_url, "api_key", "api key", version, run_id, a, None, None,
                  f"verify-{run_id}", notes)
