"""The W3C Nu HTML Checker (vnu.jar, pinned in tests/vnu/package-lock.json, installed with `npm ci` on
first use; it needs Java): every page given is checked in one run, and the errors come back per page."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

VNU_DIR = Path(__file__).resolve().parent / "vnu"
JAR = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu_missing() -> str | None:
    """Why the checker cannot run here (None when it can), installing it first if needed."""
    java, npm = shutil.which("java"), shutil.which("npm")
    if java is None:
        return "java is needed for the W3C checker (apt-get install default-jre-headless)"
    installed = VNU_DIR / "node_modules" / ".package-lock.json"
    lock = VNU_DIR / "package-lock.json"
    if not JAR.exists() or not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        if npm is None:
            return "npm is needed to install the W3C checker (tests/vnu)"
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=VNU_DIR,
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise AssertionError(f"npm ci failed in {VNU_DIR}:\n{done.stdout}\n{done.stderr}")
    return None


def validate(pages: dict[str, str]) -> dict[str, list[str]]:
    """HTML by name → the checker's errors by name (pages without errors are left out)."""
    if not pages:
        return {}
    with tempfile.TemporaryDirectory(prefix="cloudfair-vnu-") as folder:
        names = {}
        for n, (name, html) in enumerate(sorted(pages.items())):
            path = Path(folder) / f"page-{n:04d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.resolve().as_uri().replace("file:///", "file:/")] = name
        done = subprocess.run(["java", "-Xss4m", "-jar", str(JAR), "--format", "json", "--errors-only",
                               "--exit-zero-always", *map(str, sorted(Path(folder).iterdir()))],
                              capture_output=True, text=True, timeout=1800)
    report = json.loads(done.stderr or done.stdout)
    errors: dict[str, list[str]] = {}
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        name = names.get(message.get("url"), message.get("url", "?"))
        extract = (message.get("extract") or "").replace("\n", " ")
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']} [{extract}]")
    return errors


def report(errors: dict[str, list[str]]) -> str:
    lines = [f"{sum(map(len, errors.values()))} errors on {len(errors)} pages (W3C Nu HTML Checker):"]
    for name, messages in sorted(errors.items()):
        lines.append(f"- {name}")
        lines.extend(f"    {m}" for m in messages[:20])
    return "\n".join(lines)
