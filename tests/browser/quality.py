"""What every page must be, checked in the browser: accessible (axe-core) and looked at (screenshots).

axe-core is vendored (tests/browser/vendor/axe.min.js, from the npm registry's axe-core 4.14.1, MPL-2.0;
its SHA-256 is checked) so the check runs without the internet, like the Secretariat's intranet.
Screenshots go to tests/browser/artifacts/ (ignored by git): a person looks at them before a release.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
ARTIFACTS = HERE / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# WCAG 2.1 A and AA: what the issue asks for. Only "serious" and "critical" findings fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")


def _axe_source() -> str:
    source = AXE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not the vendored axe-core (sha256 {digest})"
    return source.decode()


def accessibility_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 AA violations on the page as it is now."""
    # Evaluated through the DevTools protocol, which the pages' CSP (no inline script) does not govern.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source() + "\n;undefined")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def assert_accessible(page) -> None:
    violations = accessibility_violations(page)
    assert violations == [], f"{page.url}: axe-core found serious or critical violations: {violations}"


def save_screenshots(page, name: str) -> list[Path]:
    """The page at desktop and at phone width (390 px), full length, under tests/browser/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    saved = []
    original = page.viewport_size
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = ARTIFACTS / f"{slug}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    if original:
        page.set_viewport_size(original)
    return saved


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
