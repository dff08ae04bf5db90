"""One look at a page of ours: accessible (axe-core), no horizontal scroll at 390 px, screenshots saved."""

from __future__ import annotations

from tests.browser.quality import PHONE, assert_accessible, horizontal_overflow, save_screenshots


def look_at(page, name: str) -> None:
    assert_accessible(page)
    original = page.viewport_size
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways at 390 px"
    page.set_viewport_size(original)
    save_screenshots(page, name)
