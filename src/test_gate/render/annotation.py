"""An annotation: a message GitHub shows on a file and line, at one of three levels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MESSAGE_LIMIT = 4000

Level = Literal["error", "warning", "notice"]


@dataclass(frozen=True)
class Annotation:
    level: Level
    message: str
    title: str = ""
    file: str = ""
    line: int | None = None
    properties: dict[str, str] = field(default_factory=dict)
