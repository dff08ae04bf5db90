"""A comment's Markdown as HTML that cannot carry markup of its own.

CommonMark with raw HTML off (a typed `<script>` is shown as text), images off (a comment never makes a
reader's browser fetch anything), and links only to http(s), mailto and our own pages: `javascript:`,
`data:` and the like stay plain text. Links open as ordinary ones, with no referrer sent elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = {"http", "https", "mailto"}


def _safe_link(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower() if url.strip() else ""
    # A link without a scheme is relative (our own pages); anything else must be on the list.
    return scheme in SAFE_SCHEMES or (scheme == "" and not url.strip().startswith("//"))


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MARKDOWN = _parser()


def rendered(text: str) -> Markup:
    """The comment's text as safe HTML (a Jinja filter: `comment.text | markdown`)."""
    return Markup(_MARKDOWN.render(text))
