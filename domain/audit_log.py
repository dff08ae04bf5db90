"""Who may read the global audit log, and which of its entries.

The log holds every item's events, support requests included, and those are
party-confidential. So reading it needs an audit-log role, and what it shows of
support requests is what the support-request workflow's own read rules let the
reader see: a role given the log but not support requests would see none of them,
rather than all. Today both audit-log roles read every support request.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.actor import Actor
from domain.errors import Forbidden
from domain.support_request import WORKFLOW as SUPPORT_REQUESTS
from domain.workflow import Workflow

AUDIT_LOG_READERS = ("auditor", "head")
CONFIDENTIAL_KIND = SUPPORT_REQUESTS.name  # "support_request", the log's `kind` of such entries


@dataclass(frozen=True)
class AuditLogScope:
    """What of the log an actor reads: everything but support requests, plus `support_requests` of them:
    `{}` all, `{"party": "AL"}` that Party's only, None none."""

    support_requests: dict[str, str] | None


def refuse_unless_auditing(actor: Actor, what: str = "reading the audit log") -> None:
    """Forbidden unless the actor holds an audit-log role (reading the log, verifying its chain)."""
    if not any(actor.has_role(role) for role in AUDIT_LOG_READERS):
        raise Forbidden(f"{what} needs one of: {', '.join(AUDIT_LOG_READERS)}")


def audit_log_scope(actor: Actor, support_requests: Workflow = SUPPORT_REQUESTS) -> AuditLogScope:
    """The actor's scope of the audit log; Forbidden without an audit-log role."""
    refuse_unless_auditing(actor)
    return AuditLogScope(support_requests.read_scope(actor))
