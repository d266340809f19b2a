"""The test harness around the state: settings, fixtures, the request journal, fault rules,
contract violations, and persistence (state file and snapshots)."""
