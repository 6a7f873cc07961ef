"""Imports run one way, as docs/architecture.md draws the layers: no circle between modules of app/,
and no import from a lower layer into a higher one (a service into a view, identity into a domain,
a domain into people). Both are read from the source with `ast`, imports inside functions included
(a deferred import hides a circle; it does not remove it).

An upward import that is known and not yet moved is listed in `EXCEPTIONS` with its reason; an
exception that no longer happens fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

#: The shared layer (2): helpers every package may use; below it only `app.extensions` (1).
SHARED = {"errors", "schemas", "validation", "bounds", "types", "i18n", "bilingual", "pagination", "spreadsheets",
          "openapi", "forms", "signals", "caching", "audiences", "statements", "readonly", "pool"}
#: The foundation (3), in order: reference data, identity and access, notifications (and the mail
#: outbox, `app/mail.py`), the home of heartbeats. Each may use the ones before it.
FOUNDATION = {"reference": 1, "accounts": 2, "notifications": 3, "mail": 3, "core": 4}
#: The domains (4), each may use the ones before it; meetings and parks are siblings above leads.
DOMAINS = {"projects": 1, "fairs": 2, "leads": 3, "live": 4, "meetings": 5, "parks": 5}
#: Modules that adapt a service to the outside (6): pages, API, feeds, Socket.IO, CLI, jobs, demo
#: data, Jinja helpers (`templating`), the sign-in cookie (`accounts.browser`), a lead's page data
#: (`leads.detail`), the lock-out answer (`accounts.lockout`, rendered for the rate limiter), what page
#: views share (`core.view_helpers`: a form page's submission, a button's POST).
ADAPTER_NAMES = {"views", "api", "calendar", "events", "cli", "forms", "demo", "jobs", "browser", "detail",
                 "templating", "lockout", "view_helpers"}
#: Inside a domain: enums → models → queries → services (other helpers sit beside them).
INSIDE = {"enums": 1, "models": 2, "queries": 3, "services": 4}
#: Modules placed apart from their package, and why.
PLACED = {
    # The reminder jobs' work reads fairs, leads and the live room, so it sits above them (and below
    # meetings and parks, whose own due work reuses its claiming and delivery).
    "app.notifications.reminders": (4, 4.5, 0),
}

#: (importer, imported): upward imports that are known, with the reason each is still there.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The app modules `name` imports anywhere in its source (a package's name when it imports the
    package itself, or a name defined in its __init__)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in MODULES else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer(module: str) -> tuple:
    """Where a module sits: (layer, domain order, place inside the domain); higher is further up."""
    parts = module.split(".")
    if module == "app":
        return (7,)  # create_app: the composition root imports everything
    if module in PLACED:
        return PLACED[module]
    last = parts[-1]
    if last in ADAPTER_NAMES or last.endswith("_views"):
        return (6,)
    top = parts[1]
    if top == "mail":
        return (3, FOUNDATION["mail"], 0)
    if top == "extensions":
        return (1,)
    if top in SHARED:
        return (2,)
    if top == "people":
        return (5,)
    inside = INSIDE.get(parts[2], 0) if len(parts) > 2 else 0
    if top in FOUNDATION:
        return (3, FOUNDATION[top], inside)
    return (4, DOMAINS[top], inside)


def _upward(importer: str, imported: str) -> bool:
    low, high = layer(importer), layer(imported)
    if low[0] != high[0] or low[0] not in (3, 4):
        return high[0] > low[0]
    if low[1] != high[1]:
        return high[1] > low[1]  # a package may use the ones before it in its layer
    return bool(low[2] and high[2] and high[2] > low[2])  # enums → models → queries → services


def test_imports_never_run_upward():
    upward = {(a, b) for a, deps in GRAPH.items() for b in deps if _upward(a, b)}
    unexplained = sorted(upward - set(EXCEPTIONS))
    assert unexplained == [], "imports that run up the layers (see docs/architecture.md)"
    assert sorted(set(EXCEPTIONS) - upward) == [], "exceptions that no longer happen: remove them"


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_in_a_circle():
    allowed = set(EXCEPTIONS)
    graph = {a: {b for b in deps if (a, b) not in allowed} for a, deps in GRAPH.items()}
    assert _circles(graph) == []


def test_the_checks_can_fail():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert _upward("app.accounts.services", "app.leads.models")        # identity into a domain
    assert _upward("app.leads.services", "app.people.organisations")   # a domain into people
    assert _upward("app.leads.services", "app.leads.views")            # a service into a view
    assert _upward("app.leads.queries", "app.leads.services")          # a read into a change
    assert _upward("app.projects.services", "app.live.services")       # a domain into one to its right
    assert not _upward("app.live.services", "app.leads.queries")
    assert not _upward("app.people.organisations", "app.leads.queries")
