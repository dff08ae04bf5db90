"""Who acts: a user's name, roles and (for a Party liaison) Party."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "secretariat", "head", "ewg", "party", "auditor")

# Contracting Parties of the Police Cooperation Convention for Southeast Europe
# (ISO 3166-1 alpha-2 codes).
PARTIES = ("AL", "AT", "BA", "BG", "HU", "MD", "ME", "MK", "RO", "RS", "SI")

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Actor:
    username: str
    roles: frozenset[str]
    party: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @classmethod
    def system(cls, name: str, *roles: str) -> "Actor":
        """A non-human actor (the scheduler, the command line)."""
        return cls(name, frozenset(roles))
