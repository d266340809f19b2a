"""The handlers, one module per area of the API; importing this package registers them all.

A new OpenViking operation goes into the module of its area (or a new one imported here),
registered with ``@operation`` under its ``operationId``; a control operation with ``@control``.
"""

from __future__ import annotations

from mockviking.web.handlers import admin, control, lifecycle, sessions, system, tasks
from mockviking.web.handlers.registry import CONTROL_HANDLERS, HANDLERS, Call, Handler, Raw

__all__ = [
    "CONTROL_HANDLERS",
    "HANDLERS",
    "Call",
    "Handler",
    "Raw",
    "admin",
    "control",
    "lifecycle",
    "sessions",
    "system",
    "tasks",
]
