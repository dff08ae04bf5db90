"""The audit trail, one capability: who may read it, the decision log, the hash chain, checkpoints and bundles.

- access.py: who reads the log, and how much of it (the audit-log roles, a Party-confidential workflow's scope).
- log.py, log_reading.py: the global decision log (a view of every event, with when it was recorded and when
  it happened) and its filtered, paged reading.
- chain.py: the chain's documented algorithm, pure; seal.py: the projection that seals each event into it.
- walk.py: the one walker of the chain, stored events against their seals; store.py: the store's events,
  seals and head, read one way each, and the store's verification.
- signing.py: the Ed25519 key and signed checkpoints; bundle_format.py, export.py, bundle_check.py: export
  bundles, written from the store and checked offline; archive.py: both for the pages' downloads.
- replay.py: an item's history printed as a timeline.

The CLI (`secretariat audit ...`) and the API's routes and pages parse, call in here and render. Nothing
here is an event or an aggregate, so no stored topic names a module of this package. bundle_check.py and
what it imports stay free of the store, the settings and the application (an auditor runs it offline).
"""
