"""Addresses: where a server listens, and the URL a person can open for it."""

from __future__ import annotations

import socket


def http_url(host: str, port: int) -> str:
    """The base URL of a server on ``host:port``, e.g. ``http://127.0.0.1:1933`` (IPv6 in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def listen_address(host: str, port: int) -> tuple[str, int]:
    """The address to bind (an IP) and the port, a free one for ``port=0``.

    Binding here first also turns a busy port into an ``OSError`` before anything starts,
    since granian's worker would otherwise fail on its own, with only a log line.
    """
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        return str(address[0]), int(sock.getsockname()[1])
