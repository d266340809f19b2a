"""The domain: OpenViking's state and rules, in pure Python (no HTTP, no framework, no I/O).

Accounts and keys, sessions and messages, commits and their tasks, the extractor that
stands in for the real server's LLM, and the clock. Everything else builds on this part;
it imports nothing of mockviking's outside it (ARCHITECTURE.md).
"""
