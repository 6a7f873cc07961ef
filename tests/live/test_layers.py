"""The live package's layers: the broadcaster is a transport that receives built events; it imports
none of the modules that build them, so nothing in app/live imports in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

LIVE = Path(__file__).resolve().parents[2] / "app" / "live"


def _imports() -> dict[str, set[str]]:
    graph = {}
    for path in LIVE.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names |= {a.name for a in node.names} if node.module is None else {node.module.split(".")[0]}
        graph[path.stem] = names & {p.stem for p in LIVE.glob("*.py")}
    return graph


def test_the_broadcaster_builds_nothing():
    # A transport: the audiences (enums) and Redis (shared: one folded send for every process), no
    # module that builds events.
    assert _imports()["broadcast"] <= {"enums", "shared"}


def test_no_module_of_the_live_room_imports_in_a_circle():
    graph = _imports()

    def reaches(start, seen=()):
        for dep in graph[start]:
            if dep in seen:
                continue
            yield dep
            yield from reaches(dep, (*seen, dep))

    circles = sorted(name for name in graph if name in set(reaches(name)))
    assert circles == []
