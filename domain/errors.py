"""The project's own small error hierarchy; `api/problems.py` maps it to HTTP once."""


class DomainError(Exception):
    """Base of every error a caller can act on."""

    @property
    def detail(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class InvalidTransition(DomainError):
    """The action does not exist, or is not allowed in the item's current state."""


class RuleBroken(DomainError):
    """A business rule refuses the action (e.g. approve without a duplication check)."""


class ValidationFailed(DomainError):
    """A field is missing or has a value the domain does not accept."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """A concurrent change won the race, or the item already exists."""


class PreconditionFailed(DomainError):
    """The caller expected another version of the item."""
