"""No user-facing sentence is built outside the message catalogue (contract/catalogue).

Errors shown to users take a ``Reason``; an AST scan of backend/, adapter/ and contract/ finds every call
of such an error class (``ReasonError`` and its subclasses, ``ApiError``, ``JobError``, ``ProbeError``, and
whatever subclasses them in the scanned files) with a sentence in its arguments — a string literal with
a space in it, an f-string, ``"..." % x`` or ``"...".format(x)`` — and every ``FailedEvent(reason=...)``
given such a sentence instead of ``FailedEvent.from_reason``. One test per file, so a file still being
converted shows up by name.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.catalogue import ReasonError

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("backend", "adapter", "contract")
#: Modules defining the error roots; imported so their subclasses are known by class, not only by name.
ERROR_MODULES = ("backend.errors", "contract.probe", "adapter.errors", "adapter.worker.queue")
#: Roots that must carry a Reason even where they do not (yet) subclass ReasonError.
ROOT_NAMES = frozenset({"ReasonError", "ApiError", "JobError", "ProbeError"})
EVENT_NAMES = frozenset({"FailedEvent"})


def _files() -> list[Path]:
    return sorted(
        path
        for folder in SCANNED
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    )


def _subclass_names(cls: type[BaseException]) -> Iterator[str]:
    sub: type[BaseException]
    for sub in cls.__subclasses__():
        yield sub.__name__
        yield from _subclass_names(sub)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _class_bases(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(n for b in node.bases if (n := _name(b)))
    return bases


def reason_error_names(trees: dict[Path, ast.Module]) -> frozenset[str]:
    """Names of every class that must be built from a Reason: imported subclasses, then AST subclasses."""
    for module in ERROR_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # a module that needs an optional package: its classes still come from the AST
            continue
    names = set(ROOT_NAMES) | set(_subclass_names(ReasonError))
    bases = _class_bases(trees)
    while True:
        more = {cls for cls, parents in bases.items() if parents & names} - names
        if not more:
            return frozenset(names)
        names |= more


def is_sentence(node: ast.expr) -> bool:
    """A hand-built sentence: a literal with a space, an f-string, ``"..." % x`` or ``"...".format(x)``."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(ch.isspace() for ch in node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return is_sentence(node.left) or is_sentence(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return is_sentence(node.func.value)
    return False


def offences(tree: ast.Module, errors: frozenset[str]) -> list[str]:
    """``line: call`` for every error built from a sentence and every FailedEvent given one."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in errors:
            arguments = [*node.args, *(k.value for k in node.keywords)]
        elif name in EVENT_NAMES:
            arguments = [k.value for k in node.keywords if k.arg == "reason"]
        else:
            continue
        if any(is_sentence(arg) for arg in arguments):
            found.append(f"{node.lineno}: {ast.unparse(node)[:120]}")
    return found


TREES = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _files()}
ERRORS = reason_error_names(TREES)


@pytest.mark.parametrize("path", sorted(TREES), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sentence_is_built_outside_the_catalogue(path: Path) -> None:
    assert offences(TREES[path], ERRORS) == [], f"{path.relative_to(ROOT)}: use a catalogue Reason"


@pytest.mark.parametrize(
    ("source", "count"),
    [
        ('raise ApiError("no such job")', 1),
        ('raise InvalidRequest(f"bad {x}")', 1),
        ('raise errors.JobNotFound("no such" + " job")', 1),
        ('raise Mine("a {} b".format(x))', 1),
        ('ProbeError("corrupt", "the file is damaged")', 1),
        ('FailedEvent(job_id=j, reason=f"segment {i}: {text}")', 1),
        ('raise ApiError(reason("http.job_not_found"))', 0),
        ('ProbeError("corrupt", reason("media.damaged"))', 0),
        ("FailedEvent(job_id=j, reason=why.text('en'))", 0),
        ('raise ValueError("a plain programming error")', 0),
        ('log.info("job %s queued", job_id)', 0),
    ],
)
def test_the_scan_finds_sentences_and_only_those(source: str, count: int) -> None:
    tree = ast.parse("class Mine(ApiError):\n    pass\n" + source)
    errors = reason_error_names({Path("x.py"): tree})
    assert "Mine" in errors and "InvalidRequest" in errors
    assert len(offences(tree, errors)) == count
