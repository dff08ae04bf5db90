"""What a comment's text becomes: the names it mentions, and Markdown that cannot carry markup or scripts."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from comments.markdown import rendered
from domain.commenting import mentioned_names


def test_mentions_are_usernames_after_an_at_sign_each_once_in_order():
    text = "@hana please decide; cc @milan, @erik. Again @hana, and (@sara)"
    assert mentioned_names(text) == ["hana", "milan", "erik", "sara"]


def test_an_email_address_or_a_word_with_an_at_sign_mentions_nobody():
    assert mentioned_names("write to ana@pccsee.example or x@y; @A is no username; @@sara neither; @b") == []


def test_markdown_is_rendered():
    assert rendered("**Draft** _ready_\n\n- one\n- two") == (
        "<p><strong>Draft</strong> <em>ready</em></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n")


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox)", "<javascript:alert(1)>",
    "[x](//elsewhere.example/)", '[t](" onclick="alert(1))',
])
def test_no_markup_script_or_unsafe_link_survives(text):
    assert elements(str(rendered(text))) == [("p", [])]  # the text shown as text, in a paragraph


def elements(html: str) -> list[tuple[str, list]]:
    """The elements a browser would build from `html`, with their attributes."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_images_are_not_fetched_and_safe_links_send_no_referrer():
    assert "<img" not in str(rendered("![chart](https://elsewhere.example/chart.png)"))
    assert str(rendered("[minutes](https://pccsee.eu/minutes) and [the task](/ui/tasks)")) == (
        '<p><a href="https://pccsee.eu/minutes" rel="nofollow noopener noreferrer">minutes</a> and '
        '<a href="/ui/tasks" rel="nofollow noopener noreferrer">the task</a></p>\n')
