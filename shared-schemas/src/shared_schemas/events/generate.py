"""`platform-schemas`: writes the committed JSON Schemas and AsyncAPI document, or checks them.

Files land under `shared-schemas/schemas/`, found from this module's location, so the
result does not depend on the working directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared_schemas.events.asyncapi import asyncapi_document
from shared_schemas.events.json_schemas import event_json_schema
from shared_schemas.events.registry import EVENT_TYPES

ASYNCAPI_FILE = "asyncapi.json"
JSON_SCHEMA_DIR = "json"


def package_dir() -> Path:
    """The shared-schemas project directory (the one holding its pyproject.toml)."""
    # This file is shared-schemas/src/shared_schemas/events/generate.py.
    directory = Path(__file__).resolve().parents[3]
    if not (directory / "pyproject.toml").is_file():
        raise RuntimeError(
            f"{directory} is not the shared-schemas project: generate from a source checkout"
        )
    return directory


def schemas_dir() -> Path:
    return package_dir() / "schemas"


def render(document: dict[str, Any]) -> str:
    """Stable text for a JSON document: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Every generated file's content, keyed by its path relative to the schemas directory."""
    files = {
        f"{JSON_SCHEMA_DIR}/{event_type}.json": render(event_json_schema(model))
        for event_type, model in sorted(EVENT_TYPES.items())
    }
    files[ASYNCAPI_FILE] = render(asyncapi_document())
    return files


def _stale_files(root: Path, expected: dict[str, str]) -> list[str]:
    """Generated-looking files that no event type produces any more."""
    directory = root / JSON_SCHEMA_DIR
    if not directory.is_dir():
        return []
    found = (f"{JSON_SCHEMA_DIR}/{path.name}" for path in directory.glob("*.json"))
    return sorted(name for name in found if name not in expected)


def drifted_files(root: Path) -> list[str]:
    """Paths under `root` that differ from a fresh generation: changed, missing or stale."""
    expected = generated_files()
    drifted = [
        name
        for name, text in expected.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    ]
    return sorted(drifted + _stale_files(root, expected))


def write_files(root: Path) -> list[str]:
    """Bring `root` up to date; return the paths written or removed as stale."""
    expected = generated_files()
    touched: list[str] = []
    for name, text in expected.items():
        path = root / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        touched.append(name)
    for name in _stale_files(root, expected):
        (root / name).unlink()
        touched.append(name)
    return sorted(touched)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="platform-schemas",
        description="Generate the event JSON Schemas and the AsyncAPI document.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files that differ from a fresh generation",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="directory to write to or check (default: shared-schemas/schemas)",
    )
    args = parser.parse_args(argv)
    root: Path = args.output or schemas_dir()
    if args.check:
        drifted = drifted_files(root)
        if drifted:
            print(f"{len(drifted)} schema file(s) out of date in {root}:", file=sys.stderr)
            for name in drifted:
                print(f"  {name}", file=sys.stderr)
            print("Run `make schemas` and commit the result.", file=sys.stderr)
            return 1
        print(f"schema files up to date in {root}")
        return 0
    touched = write_files(root)
    for name in touched:
        print(f"updated {root / name}")
    print(f"{len(touched)} schema file(s) updated in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
