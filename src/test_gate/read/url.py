"""A history URL: which texts are one, and how a message shows one. Apart from the PostgreSQL
store, so that checking the options does not load the stores."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


def is_url(text: str) -> bool:
    return text.startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL as messages show it: no password, no query (it may hold one too)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://(a URL that does not parse)"
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))
