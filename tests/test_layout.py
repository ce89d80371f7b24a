"""Fixtures and helpers live in tests/fixtures/ or conftest.py: no test module imports another test module.

A conftest module counts as one too: pytest loads it by itself, and importing it a second time (under
another name) runs it twice. Code strings run in subprocesses (``python -c "from tests... import"``) are
read as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: ``from tests.x import y`` / ``import tests.x`` inside a string (code handed to ``python -c``).
IN_STRING = re.compile(r"\b(?:from|import)\s+(tests(?:\.\w+)+)")


def _is_test_module(dotted: str) -> bool:
    """Whether ``tests.a.b`` names a test module (test_*.py) or a conftest."""
    parts = dotted.split(".")
    return parts[0] == "tests" and any(part == "conftest" or part.startswith("test_") for part in parts[1:])


def _resolved(module: str | None, level: int, path: Path, top: Path) -> str:
    """The absolute dotted name of an import in ``path`` under ``top`` (relative ones resolved)."""
    if level == 0:
        return module or ""
    package = path.relative_to(top).with_suffix("").parts[:-level]
    return ".".join([*package, *([module] if module else [])])


def imported(path: Path, top: Path = TESTS.parent) -> list[tuple[int, str]]:
    """(line, dotted name) of every tests.* module ``path`` imports, in code or in a code string."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolved(node.module, node.level, path, top)
            found.append((node.lineno, base))
            if not _is_test_module(base):  # `from tests.adapter import test_worker` imports one too
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [(node.lineno, name) for name in IN_STRING.findall(node.value)]
    return [(line, name) for line, name in found if name.startswith("tests.")]


def offences(root: Path = TESTS) -> list[str]:
    """Each import of a test or conftest module by another module under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "vendor" in path.parts or path == Path(__file__).resolve():  # this file's samples are offences
            continue
        for line, name in imported(path, root.parent):
            if _is_test_module(name):
                found.append(f"{path.relative_to(root.parent)}:{line}: imports {name}")
    return found


def test_no_test_module_imports_another_test_module() -> None:
    found = offences()
    advice = "move shared helpers to tests/fixtures/, fixtures to a conftest.py:\n  "
    assert not found, advice + "\n  ".join(found)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "tests" / "adapter"
    package.mkdir(parents=True)
    (package / "test_b.py").write_text(
        "from tests.adapter.test_a import helper\n"
        "from tests.backend import conftest\n"
        "from .test_a import other\n"
        "def test_x():\n"
        "    import tests.e2e.conftest\n"
        "    code = 'from tests.adapter.test_worker import serve; serve()'\n"
        "from tests.fixtures.media import make_clip\n"
        "from tests.fixtures.services import require\n"
    )
    lines = [line.split(": imports ")[1] for line in offences(tmp_path / "tests")]
    assert lines == [
        "tests.adapter.test_a",
        "tests.backend.conftest",
        "tests.adapter.test_a",
        "tests.e2e.conftest",
        "tests.adapter.test_worker",
    ]
