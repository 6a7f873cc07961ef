"""axe-core in the page under test: `check_a11y(page)` fails on any serious or critical violation.

axe is vendored (tests/browser/vendor/, see its README) and evaluated through the DevTools protocol
(`page.evaluate` of the file's text): the app's CSP is `script-src 'self'`, which rightly refuses an
inline <script>, and the protocol's evaluation is not the page's own script, so no CSP needs bending.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: Impacts that fail a test; "moderate" and "minor" findings are printed only.
FAILING = ("serious", "critical")
#: The rule sets axe runs: WCAG 2.x A and AA (2.0, 2.1, 2.2) and Deque's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def run_axe(page, context: str | dict = "html", *, disable: tuple[str, ...] = ()) -> dict:
    """Run axe on the page as it is now and return its results (violations, incomplete, passes …)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    return page.evaluate("([context, options]) => axe.run(context, options)", [context, options])


def describe(violations: list[dict]) -> str:
    """Each violation as `impact id: help (helpUrl)` and the selector and summary of each failing node."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:12]:
            target = " >> ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}\n        {node['html'][:160]}\n        {summary[:300]}")
        if len(v["nodes"]) > 12:
            lines.append(f"    … and {len(v['nodes']) - 12} more")
    return "\n".join(lines)


def check_a11y(page, name: str = "", **kwargs) -> list[dict]:
    """Fail (AssertionError) on serious or critical axe violations; print and return the milder ones."""
    results = run_axe(page, **kwargs)
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    milder = [v for v in results["violations"] if v["impact"] not in FAILING]
    where = f"{name or page.url} ({page.locator('html').get_attribute('lang')})"
    if milder:
        print(f"\naxe, {where}: milder findings\n{describe(milder)}")
    assert not failing, f"axe found serious or critical violations on {where}:\n{describe(failing)}"
    return milder
