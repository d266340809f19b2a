"""Phase 5, seed superset: fields the seed documents ask for beyond the real server's answers.

Reported apart from drift: the real OpenViking omits some of them, mockviking returns them all.
"""

from __future__ import annotations

import json
import typing as t

from mockviking.domain.models import LLM_USAGE_KEYS, MEMORY_CATEGORIES
from mockviking.verify.client import Exchange
from mockviking.verify.rules import RuleFailed, Steps

if t.TYPE_CHECKING:
    from mockviking.verify.target import Target
    from mockviking.verify.verifier import Verifier

#: What an add-message answer carries in the seed documents (plus pending tokens, as the real server).
SEED_ADD_MESSAGE_FIELDS = ("session_id", "message_count", "pending_tokens")

#: The agent id sent where ``user.agent_id`` is checked.
AGENT_ID = "verify-agent"


def run(v: Verifier, target: Target) -> None:
    v.progress("[superset] checking the seed documents' superset fields")
    rules = SupersetRules(v, target)
    v.rule("superset", "add message: session_id, message_count, pending_tokens", rules.add_message_fields)
    v.rule("superset", "user.agent_id", rules.agent_id)
    v.rule("superset", "memories_extracted: 8 seed categories", rules.memory_categories)
    v.rule("superset", "llm_token_usage: 5 counters", rules.token_counters)


class SupersetRules(Steps):
    """One check per superset field group, each on its own fresh session."""

    def add_message_fields(self) -> str:
        sid = self.session("superset-add")
        added = self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"role": "user", "content": "hello"},
                          what="add message")
        result = added.result if isinstance(added.result, dict) else {}
        missing = [name for name in SEED_ADD_MESSAGE_FIELDS if name not in result]
        if missing:
            raise RuleFailed(f"seed superset: the add-message result lacks {', '.join(missing)} "
                             f"(has {', '.join(result) or 'nothing'})", [added])
        wrong = []
        if result.get("session_id") != sid:
            wrong.append(f"session_id is {result.get('session_id')!r}, expected {sid!r}")
        if result.get("message_count") != 1:
            wrong.append(f"message_count is {result.get('message_count')!r}, expected 1 (a new session)")
        if wrong:
            raise RuleFailed("seed superset: add message: " + "; ".join(wrong), [added])
        return "session_id, message_count, pending_tokens"

    def _superset_session(self) -> tuple[dict[str, t.Any], Exchange]:
        sid = self.session("superset")
        headers = {**self.a, "X-OpenViking-Agent": AGENT_ID}
        self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"role": "user", "content": "hello"},
                  what="add message")
        exchange = self.call("GET", f"/api/v1/sessions/{sid}", headers=headers, what="GET session")
        result = exchange.result
        if not isinstance(result, dict):
            raise RuleFailed("seed superset: GET session answered without a result object", [exchange])
        return result, exchange

    def agent_id(self) -> str:
        result, exchange = self._superset_session()
        user = result.get("user")
        if not isinstance(user, dict) or "agent_id" not in user:
            raise RuleFailed(f"seed superset: GET session result.user has no agent_id (seed 000 has "
                             f"user.agent_id; sent X-OpenViking-Agent: {AGENT_ID}); user is {json.dumps(user)}",
                             [exchange])
        if user["agent_id"] != AGENT_ID:
            raise RuleFailed(f"seed superset: user.agent_id is {user['agent_id']!r}, expected {AGENT_ID!r} "
                             "(the X-OpenViking-Agent header sent)", [exchange])
        return f"user.agent_id = {AGENT_ID!r}"

    def memory_categories(self) -> str:
        result, exchange = self._superset_session()
        memories = result.get("memories_extracted")
        if not isinstance(memories, dict):
            raise RuleFailed("seed superset: GET session has no memories_extracted object", [exchange])
        missing = [name for name in (*MEMORY_CATEGORIES, "total") if name not in memories]
        if missing:
            raise RuleFailed(f"seed superset: memories_extracted lacks {', '.join(missing)} "
                             f"(has {', '.join(memories) or 'nothing'})", [exchange])
        return ", ".join(MEMORY_CATEGORIES) + ", total"

    def token_counters(self) -> str:
        result, exchange = self._superset_session()
        usage = result.get("llm_token_usage")
        if not isinstance(usage, dict):
            raise RuleFailed("seed superset: GET session has no llm_token_usage object", [exchange])
        missing = [name for name in LLM_USAGE_KEYS if name not in usage]
        if missing:
            raise RuleFailed(f"seed superset: llm_token_usage lacks {', '.join(missing)} "
                             f"(has {', '.join(usage) or 'nothing'})", [exchange])
        return ", ".join(LLM_USAGE_KEYS)
