"""axe-core (tests/site/vendor/axe.min.js, vendored from npm) run in a page: its violations, readably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.1 A/AA plus axe's best practices, experimental rules too (label-content-name-mismatch is one).
OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice", "experimental"],
    }
}


def violations(page: Any) -> list[str]:
    """axe's violations on ``page`` now, one line each: rule, impact and the first offending nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(options) => axe.run(document, options).then((r) => r.violations)", OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): " + " | ".join(n["html"][:120] for n in v["nodes"][:3]) for v in found
    ]
