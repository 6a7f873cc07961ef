"""Measuring a page's width: no page may be wider than a 390 px phone (issue 14).

`conftest.py` measures every page the browser suite visits (each context's pages, once more at the
phone's width, when its test ends); `test_layout.py` walks each role's pages on purpose.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PHONE = {"width": 390, "height": 844}
#: (who: an email or "anonymous", language: the account's locale or "", path) of every page measured
#: at the phone's width in this session, so that no page is measured twice for the same person.
MEASURED: set[tuple[str, str, str]] = set()

#: What each element that sticks out past the right edge is, for the failure message.
WIDER = """(limit) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > limit + 1) {
      let inside = el.parentElement, clipped = false;
      while (inside && inside !== document.body) {  // inside a box that scrolls or clips: fine
        const style = getComputedStyle(inside);
        if (/(auto|scroll|hidden|clip)/.test(style.overflowX)) { clipped = true; break; }
        inside = inside.parentElement;
      }
      if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
        " → " + Math.round(box.right) + "px");
    }
  }
  return out.slice(0, 8);
}"""


def too_wide(page, path: str, label: str = "") -> str | None:
    """The page (already loaded, at the phone's width) is wider than the phone: what sticks out."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return None
    return f"{path}{f' ({label})' if label else ''} is {width}px wide at {PHONE['width']}px: " + \
        ", ".join(page.evaluate(WIDER, PHONE["width"]))


def html_page_visited(response) -> str | None:
    """The path (with its query) of a page the browser navigated to and got as HTML, else None."""
    try:
        request = response.request
        if request.method != "GET" or not request.is_navigation_request() or response.frame.parent_frame is not None:
            return None
        if response.status != 200 or "text/html" not in (response.headers.get("content-type") or ""):
            return None
    except Exception:  # the page or frame is already gone
        return None
    parts = urlsplit(response.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
