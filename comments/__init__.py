"""Comments on items: `POST /{collection}/{id}/comments`, their safe Markdown, and the item page's part.

A comment is an event on its item (domain/item.py's `CommentAdded`), so it is in the item's history
and audit chain, read by the item's readers and nobody else. Its `@username` mentions notify, through
the reminder inbox and its e-mail deliveries, the users who may read the item (domain/commenting.py).
routes.py holds the HTTP routes and the page form's route; markdown.py renders a comment's text.
"""
