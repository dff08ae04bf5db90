"""The composition root: settings, wiring and the `secretariat` command."""
