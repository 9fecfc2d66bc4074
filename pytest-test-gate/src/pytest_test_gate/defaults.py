"""Settings test-gate asks for only where the user set none: the user's configuration wins.

test-gate passes `--test-gate-reruns`, `--test-gate-bucket` and `--test-gate-test-timeout`
instead of the plugins' own options (which, coming last, would override the user's). Before
the plugins read their settings, each is applied only when neither the command line, nor
PYTEST_ADDOPTS, nor the configuration file's addopts (or, for the time limit, its `timeout`
setting) names it. What was used, and who chose it, goes into the record.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from pytest_test_gate.options import RANDOMLY, option_values, plugin_args, split_words

# test-gate's option -> (the plugin's option, its dest, how test-gate writes its value)
DEFAULTS = {
    "reruns": ("--reruns", "reruns", int),
    "bucket": ("--random-order-bucket", "random_order_bucket", str),
    "test_timeout": ("--timeout", "timeout", float),
}


def _user_words(config: Any) -> list[str]:
    words = [str(a) for a in config.invocation_params.args]
    words += split_words(os.environ.get("PYTEST_ADDOPTS", ""))
    with contextlib.suppress(ValueError):
        words += [str(a) for a in config.getini("addopts") or []]
    return words


def _named(words: list[str], option: str) -> bool:
    return bool(option_values(words, option)) or option in words


def _in_ini(config: Any, name: str) -> bool:
    try:
        return bool(config.getini(name))
    except ValueError:  # the plugin that owns the setting is not installed
        return False


def apply(config: Any) -> dict[str, dict[str, Any]]:
    """Apply test-gate's defaults where the user set nothing; return what each one is now."""
    words = _user_words(config)
    chosen: dict[str, dict[str, Any]] = {}
    for name, (option, dest, kind) in DEFAULTS.items():
        wanted = config.getoption(f"test_gate_{name}", None)
        if wanted in (None, ""):
            continue
        if not hasattr(config.option, dest):
            chosen[name] = {"value": None, "by": "missing", "option": option}
            continue
        user = _named(words, option) or (name == "test_timeout" and _in_ini(config, "timeout"))
        if not user:
            setattr(config.option, dest, kind(wanted))
        value = getattr(config.option, dest)
        chosen[name] = {
            "value": value if value is None or isinstance(value, (int, float)) else str(value),
            "by": "user" if user else "test-gate",
            "option": option,
        }
    if any(name in RANDOMLY for _, _, name in plugin_args(words)):
        chosen["randomly"] = {"value": "off", "by": "overridden", "option": "-p randomly"}
    return chosen
