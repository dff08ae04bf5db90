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

from typing import Any, Callable, Iterable, Mapping, Protocol

ERASED = "[erased]"


class PersonalData:
    """A piece of personal data about `subject` (a username); its `value` is None once erased.

    Read from the store it holds only the stored (encrypted) form and a way to open it, and opens it
    afresh on every read of `value`: an aggregate kept in a cache, or a view's row decoded long ago,
    reads as erased the moment another process deletes the key, and decoding an event costs no key
    lookup unless something reads the value. Immutable: copies (the aggregate cache deep-copies) share it.
    """

    __slots__ = ("subject", "_value", "_erased", "stored", "_opener")

    def __init__(self, subject: str, value: str | None = None, *, erased: bool = False, stored: Any = None,
                 opener: Callable[[Any], str | None] | None = None) -> None:
        self.subject = subject
        self._value = value
        self._erased = erased or (value is None and opener is None)
        self.stored = stored  # the stored form (opaque to the domain): written again as it was
        self._opener = opener

    @classmethod
    def of(cls, subject: str, value: str | None) -> "PersonalData | None":
        return None if value is None else cls(subject, value)

    @classmethod
    def erased_for(cls, subject: str) -> "PersonalData":
        return cls(subject, None, erased=True)

    @property
    def value(self) -> str | None:
        if self._erased:
            return None
        return self._opener(self.stored) if self._opener is not None else self._value

    @property
    def erased(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        # What pages, JSON answers and exports show: the value, or that it was erased.
        value = self.value
        return ERASED if value is None else value

    def __repr__(self) -> str:
        # Never the value itself: a repr ends up in logs and tracebacks.
        return f"PersonalData(subject={self.subject!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, PersonalData) and (self.subject, self.value) == (other.subject, other.value))

    def __hash__(self) -> int:
        return hash(self.subject)

    def __copy__(self) -> "PersonalData":
        return self

    def __deepcopy__(self, memo: dict) -> "PersonalData":
        return self


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
        return {"subject": obj.subject, "value": obj.value}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        value = data.get("value")
        return PersonalData(data["subject"], value) if value is not None else PersonalData.erased_for(data["subject"])
