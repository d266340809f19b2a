"""Serving a WSGI app over HTTP: granian (``mockviking serve``'s default) and waitress (the
pytest plugin, Windows), bound addresses, and interpreter tuning. Knows no mockviking app."""
