"""What a watched value looks like in a record: a cheap fingerprint of module globals, class
attributes and containers, and each change as short text (a key, the value before and after).
The watch (`state.py`) compares fingerprints; this module makes and describes them. Standard
library only.
"""

from __future__ import annotations

import functools
import logging
import os
import types
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

MAX_VALUE = 100  # characters of a value's text
MAX_CLASSES = 200  # classes of one module whose data attributes are watched
MAX_ATTRIBUTES = 32  # data attributes watched of one class
MAX_NAMES = 8  # names shown in words of a set that grew or shrank
MAX_LISTED = 64  # names listed one by one of a set that grew or shrank
SMALL = 256  # a dict or set up to this size keeps its keys, to say which one came or went
CONTAINERS = (dict, list, set, frozenset, tuple, bytearray)
KEYED = (dict, set, frozenset)
LRU_CACHE = type(functools.lru_cache(maxsize=None)(lambda: None))
SIZED = frozenset(CONTAINERS)  # exact types: a subclass may count itself slowly
UNSET = "unset"

Change = dict[str, Any]  # {"key", "before", "after"}


def _level(level: int) -> str:
    return logging.getLevelName(level) if isinstance(level, int) else short(level)


def short(value: object) -> str:
    """A value as a person reads it: its repr, cut to MAX_VALUE characters."""
    try:
        text = repr(value)
    except Exception:  # a repr that raises: the type says enough
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _names(items: Iterator[str] | set[str]) -> str:
    shown = sorted(items)
    more = f" and {len(shown) - MAX_NAMES} more" if len(shown) > MAX_NAMES else ""
    return ", ".join(short(i) for i in shown[:MAX_NAMES]) + more


def _contents(value: Any) -> Any:
    """A container's keys (a dict's or set's, when small), else its size."""
    try:
        if isinstance(value, (dict, set)) and len(value) <= SMALL:
            return frozenset(map(str, value))
        return len(value)
    except Exception:
        return -1


def _fixture_name(fixturedef: Any, root: Path) -> str:
    """`fixture 'add_semver' (tests/conftest.py:12)`: where a person finds it."""
    where = ""
    with suppress(Exception):
        code = fixturedef.func.__code__
        path = Path(code.co_filename)
        with suppress(ValueError):
            path = path.resolve().relative_to(root)
        where = f" ({path.as_posix()}:{code.co_firstlineno})"
    return f"fixture {fixturedef.argname!r}{where}"


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # a test removed the directory it was in
        return "(removed)"


def _locale(locale: Any) -> str | None:
    if locale is None:
        return None
    try:  # the C function under the module's Python wrapper, when it has one: a call less
        return str(getattr(locale, "_setlocale", locale.setlocale)(locale.LC_ALL))
    except Exception:
        return None


def _mtime(directory: str) -> int:
    try:
        return os.stat(directory).st_mtime_ns
    except OSError:
        return 0


def _inside(path: str, root: Path) -> bool:
    try:
        resolved = Path(path).resolve()
    except OSError:
        return False
    if root not in resolved.parents:
        return False
    parts = resolved.relative_to(root).parts
    return not any(p in ("site-packages", "dist-packages") or p.startswith(".") for p in parts)


def _handler(value: object) -> str:
    if callable(value):
        return getattr(value, "__qualname__", None) or short(value)
    return short(value)


Fingerprint = dict[str, "tuple[int, int, frozenset[Any] | None, str]"]
PLAIN = (type(None), bool, int, float, complex, str, bytes)


Classes = tuple[tuple[type, tuple[str, ...]], ...]
DESCRIPTORS = (
    staticmethod,
    classmethod,
    property,
    types.MemberDescriptorType,
    types.GetSetDescriptorType,
)


def _classes(module: ModuleType) -> Classes:
    """The classes a module defines, with their data attributes (a flag, a cache, an
    instance kept as a singleton): class state a test can leave changed."""
    out = []
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            names = tuple(
                name
                for name, attr in list(vars(value).items())
                if name[:2] != "__" and not callable(attr) and not isinstance(attr, DESCRIPTORS)
            )
            if names:
                out.append((value, names[:MAX_ATTRIBUTES]))
            if len(out) >= MAX_CLASSES:
                break
    return tuple(out)


def _entry(value: Any) -> tuple[int, int, frozenset[Any] | None, str]:
    if type(value) is LRU_CACHE:  # a cached function: its cache's size
        return (id(value), _cached(value), None, "")
    if isinstance(value, CONTAINERS):
        try:
            size = len(value)
        except Exception:
            size = -1
        keys = frozenset(value) if isinstance(value, KEYED) and 0 <= size <= SMALL else None
        return (id(value), size, keys, "")
    return (id(value), -1, None, short(value) if type(value) in PLAIN else "")


def _globals(module: ModuleType, classes: Classes) -> Fingerprint:
    """Each name of a module, and each data attribute of its classes (`Class.name`): the
    object it is bound to, and a container's length (and a small dict's or set's keys, to
    say which one came or went)."""
    out: Fingerprint = {}
    for name, value in list(vars(module).items()):
        if name[:2] != "__":
            out[name] = _entry(value)
    for cls, names in classes:
        attributes = vars(cls)
        for name in names:
            if name in attributes:
                out[f"{cls.__name__}.{name}"] = _entry(attributes[name])
    return out


def _values(module: ModuleType, classes: Classes) -> dict[str, Any]:
    """What `_globals` fingerprints, by the same names."""
    out = dict(vars(module))
    for cls, names in classes:
        attributes = vars(cls)
        out.update((f"{cls.__name__}.{n}", attributes[n]) for n in names if n in attributes)
    return out


class Shape(NamedTuple):
    """What a module's fast fingerprint looks at besides the objects its names are bound to:
    its classes with their data attributes, and the names bound to a container or a cached
    function, whose sizes it takes. A name bound to another object since is told by that
    object's id, and the shape is then taken again."""

    classes: Classes
    sized: tuple[str, ...]


def _shape(module: ModuleType) -> Shape:
    # dunder names are left out, as `_globals` leaves them: `__builtins__` is a dict in
    # every module, and a change to it would be seen here and then described nowhere
    sized = tuple(
        name
        for name, value in list(vars(module).items())
        if name[:2] != "__" and (type(value) in SIZED or type(value) is LRU_CACHE)
    )
    return Shape(_classes(module), sized)


def _size(value: Any) -> int:
    """A container's length, a cached function's cache size, -1 for anything else (whose
    object's id says when it is another)."""
    kind = type(value)
    if kind in SIZED:
        return len(value)
    return _cached(value) if kind is LRU_CACHE else -1


def _fast(module: ModuleType, shape: Shape) -> tuple[Any, ...]:
    """A fingerprint to compare only: the objects the names (and the classes' data
    attributes) are bound to, and the sizes of the containers among them (most tests change
    nothing: this is all they cost, and most test modules have no container to size)."""
    namespace = vars(module)
    ids = tuple(map(id, namespace.values()))
    sizes = tuple([_size(namespace.get(name)) for name in shape.sized]) if shape.sized else ()
    if not shape.classes:  # most modules: a test module's classes hold no data
        return ids, (), sizes, ()
    attributes = [vars(cls).get(n) for cls, names in shape.classes for n in names]
    return ids, tuple(map(id, attributes)), sizes, tuple(map(_size, attributes))


def _cached(function: Any) -> int:
    try:
        return int(function.cache_info().currsize)
    except Exception:
        return -1


def _global_changes(
    module: str, old: Fingerprint, new: Fingerprint, values: dict[str, Any]
) -> Iterator[Change]:
    if old == new:
        return
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        key = f"{module}.{name}"
        if before is None:
            yield {"key": key, "before": UNSET, "after": short(values.get(name))}
        elif after is None:
            yield {"key": key, "before": "bound", "after": UNSET}
        elif before[0] != after[0]:
            yield {
                "key": key,
                "before": before[3] or "another object",
                "after": short(values.get(name)),
            }
        elif before[2] is not None and after[2] is not None:
            yield _set_change(key, after[2] - before[2], before[2] - after[2], "")
        elif type(values.get(name)) is LRU_CACHE:
            yield {
                "key": f"{key} (its cache)",
                "before": f"{before[1]} results",
                "after": f"{after[1]} results",
            }
        else:
            yield {"key": key, "before": f"{before[1]} items", "after": f"{after[1]} items"}


def _change(key: str, before: object, after: object) -> Change:
    """A value that changed; None is a value that was not set."""
    return {
        "key": key,
        "before": UNSET if before is None else short(before),
        "after": UNSET if after is None else short(after),
    }


def _text_change(key: str, before: str, after: str) -> Change:
    """A change already in words."""
    return {"key": key, "before": before, "after": after}


def _handlers(handlers: tuple[Any, ...]) -> str:
    return ", ".join(type(h).__name__ for h in handlers) or "none"


def _set_change(key: str, added: Any, removed: Any, otherwise: str) -> Change:
    """A set of names that grew or shrank: in words, and each name (up to MAX_LISTED), so
    that the diagnosis can match one against a failure."""
    gained, lost = sorted(map(str, added)), sorted(map(str, removed))
    parts = []
    if gained:
        parts.append(f"gained {_names(set(gained))}")
    if lost:
        parts.append(f"lost {_names(set(lost))}")
    change: Change = {"key": key, "before": "", "after": "; ".join(parts) or otherwise}
    if gained:
        change["gained"] = [short(n) for n in gained[:MAX_LISTED]]
    if lost:
        change["lost"] = [short(n) for n in lost[:MAX_LISTED]]
    return change


def _logger_changes(
    name: str, old: tuple[int, int, bool], new: tuple[int, int, bool]
) -> Iterator[Change]:
    if old[0] != new[0]:
        yield _text_change(f"logging: logger {name!r} level", _level(old[0]), _level(new[0]))
    if old[1] != new[1]:
        yield _text_change(f"logging: logger {name!r} handlers", f"{old[1]}", f"{new[1]}")
    if old[2] != new[2]:
        yield _text_change(f"logging: logger {name!r} disabled", str(old[2]), str(new[2]))
