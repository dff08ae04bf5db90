"""Personal data in events: a value that is stored encrypted under the key of the person it concerns.

The GDPR lets a person have their data erased, but events are never rewritten. So personal data
(a user's e-mail address, an item field its workflow marks `personal`) travels in events as a
`PersonalData` value, and the event store's transcoder (personal_data/, outside the domain) keeps
only its ciphertext, under a key kept per person (`subject`) in a key table. Deleting the person's
keys ("crypto-shredding") leaves every event in place, and the audit hash chain over the stored
ciphertext intact, while the data reads as `[erased]` from then on, in every process.

Events written before encryption existed hold plain strings where a `PersonalData` now goes:
`reveal` reads both, and erasure cannot reach those without rewriting history (it says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol

ERASED = "[erased]"


@dataclass(frozen=True)
class PersonalData:
    """A piece of personal data about `subject` (a username); `value` is None once erased."""

    subject: str
    value: str | None
    erased: bool = False
    # The stored form it was read from (opaque to the domain): written again as it was, so a view
    # that stores events' data holds the very same ciphertext whether built live or rebuilt.
    stored: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, subject: str, value: str | None) -> "PersonalData | None":
        return None if value is None else cls(subject, value)

    @classmethod
    def erased_for(cls, subject: str) -> "PersonalData":
        return cls(subject, None, erased=True)

    def __str__(self) -> str:
        # What pages, JSON answers and exports show: the value, or that it was erased.
        return ERASED if self.erased or self.value is None else self.value

    def __repr__(self) -> str:
        # Never the value itself: a repr ends up in logs and tracebacks.
        return f"PersonalData(subject={self.subject!r}, {'erased' if self.erased else 'value=...'})"


def reveal(value: Any) -> Any:
    """The plain value: a PersonalData's (None once erased), or the value itself (written before encryption)."""
    return value.value if isinstance(value, PersonalData) else value


def shown(value: Any) -> Any:
    """As answers and pages show it: `[erased]` for erased personal data, else the plain value."""
    return str(value) if isinstance(value, PersonalData) else value


def seal_personal_fields(values: Mapping[str, Any], personal: Iterable[str], subject: str) -> dict[str, Any]:
    """`values` with each personal field's text wrapped as `subject`'s personal data (to be stored encrypted).

    `subject`: whose key encrypts it; the actor who wrote the value is the default a caller should pass
    (a person writes about themselves: a Party liaison's contact details), so erasing that actor erases it.
    """
    wanted = set(personal)
    return {k: PersonalData(subject, v) if k in wanted and isinstance(v, str) else v for k, v in values.items()}


class PersonalKeys(Protocol):
    """Where each person's keys are kept: outside the event store's tables, so deleting them shreds the data."""

    def key_for(self, subject: str) -> tuple[str, bytes]:
        """The subject's current key (its id and bytes), made on first use."""

    def key(self, key_id: str) -> bytes | None:
        """A key by its id; None once erased. Read afresh every time: another process may have erased it."""

    def erase(self, subject: str) -> int:
        """Delete every key of the subject; how many there were."""

    def close(self) -> None:
        """Let go of connections (the application closes)."""


class PersonalDataInTheClear:
    """Stores personal data unencrypted: only for an application built without a key store (tests, benchmarks).

    The composition root always gives the real one (personal_data/cipher.py); an application that has it
    still reads what this wrote. Duck-typed as an `eventsourcing` Transcoding: the domain imports no library
    beyond what the application module already does.
    """

    type = PersonalData
    name = "personal_plain"

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        return {"subject": obj.subject, "value": None if obj.erased else obj.value}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        value = data.get("value")
        return PersonalData(data["subject"], value) if value is not None else PersonalData.erased_for(data["subject"])
