"""``mockviking serve`` freezes what survives a collection of the middle generation: that is
only safe while the stored state holds no reference cycles, which this checks."""

from __future__ import annotations

import gc
import typing as t

from mockviking import create_app
from mockviking.harness.config import Config
from mockviking.serving.tuning import MIDDLE_GENERATION_EVERY, _freeze_survivors, tune_interpreter
from tests._support import ALICE_KEY

KEY = {"X-API-Key": ALICE_KEY}


def _fill(client: t.Any) -> None:
    for i in range(20):
        messages = [{"role": "user", "content": f"message {i}.{k}"} for k in range(5)]
        assert client.post(f"/api/v1/sessions/s{i}/messages/batch", json={"messages": messages},
                           headers=KEY).status_code == 200
        assert client.post(f"/api/v1/sessions/s{i}/messages", json={
            "role": "assistant", "parts": [{"type": "tool", "tool_id": "t", "tool_output": "out"}],
        }, headers=KEY).status_code == 200
        assert client.post(f"/api/v1/sessions/s{i}/commit", json={}, headers=KEY).status_code == 200
        assert client.get(f"/api/v1/sessions/s{i}/context", headers=KEY).status_code == 200


def test_state_dropped_after_a_freeze_is_never_cyclic_garbage() -> None:
    app = create_app(Config())
    client = app.test_client()
    _fill(client)
    gc.collect()
    gc.freeze()
    try:
        for i in range(10):
            assert client.delete(f"/api/v1/sessions/s{i}", headers=KEY).status_code == 200
        assert client.post("/_mockviking/reset").status_code == 200
        gc.collect()  # the garbage made since the freeze
    finally:
        gc.unfreeze()
    # Anything found now was frozen while alive and became a cycle later: it would leak.
    assert gc.collect() == 0


def test_tuning_freezes_startup_and_survivors_once() -> None:
    thresholds = gc.get_threshold()
    try:
        tune_interpreter()
        assert gc.get_freeze_count() > 0  # start-up is frozen
        assert gc.get_threshold() == (thresholds[0], MIDDLE_GENERATION_EVERY, thresholds[2])
        tune_interpreter()
        assert gc.callbacks.count(_freeze_survivors) == 1
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        gc.collect(0)  # a young collection: nothing is frozen
        assert gc.get_freeze_count() == 0
        gc.collect(1)  # the middle generation: the callback freezes its survivors
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        gc.collect()  # and a full collection
        assert gc.get_freeze_count() > 0
    finally:
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()
        gc.set_threshold(*thresholds)
