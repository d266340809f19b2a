"""System operations: ``/health``, the probe every client sends first."""

from __future__ import annotations

import typing as t

from mockviking.web.handlers.registry import EMULATED_VERSION, Call, Raw, operation


@operation
def health(call: Call) -> Raw:
    body: dict[str, t.Any] = {
        "status": "ok",
        "healthy": True,
        "version": EMULATED_VERSION,
        "auth_mode": call.store.auth_mode,
    }
    if call.identity is not None:
        body.update(
            account_id=call.identity.account_id,
            user_id=call.identity.user_id,
            role=call.identity.role,
        )
    return Raw(body)
