"""The plugin inside real pytest runs, with pytest's own `pytester`."""

from __future__ import annotations

pytest_plugins = ["pytester"]
