"""Each benchmark owns one marked section of RESULTS.md and rewrites only that section."""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def write_section(path: Path, name: str, text: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = before + block + ("\n" + after if after else "")
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + block
    path.write_text(new, encoding="utf-8")


def write_unless(args: argparse.Namespace, name: str, text: str) -> None:
    """A section_parser benchmark's ending: its section written to --out (unless --no-write),
    and printed."""
    if not args.no_write:
        write_section(Path(args.out), name, text)
        print(f"wrote {args.out}")
    print(text)


def section_parser(doc: str | None, sizes: str) -> argparse.ArgumentParser:
    """The options of a benchmark that writes a section: the sizes, RESULTS.md or another
    file, or nothing written."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--sizes", default=sizes)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--no-write", action="store_true")
    return parser
