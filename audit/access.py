"""Who may read the global audit log, and which of its entries.

The log holds every item's events, and those of a workflow a Party liaison reads (support
requests, meetings: see `Workflow.party_scoped`) are confidential between Parties. So reading
it needs an audit-log role, and what it shows of such a workflow is what that workflow's own
read rules let the reader see: a role given the log but not the workflow would see none of
its entries, rather than all. Today both audit-log roles read every item of every workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from domain.actor import Actor
from domain.errors import Forbidden
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow

AUDIT_LOG_READERS = ("auditor", "head")
# Nothing here is an event or an aggregate: no stored topic names this module (it was domain/audit_log.py).


@dataclass(frozen=True)
class AuditLogScope:
    """What of the log an actor reads: everything, but of each confidential workflow (by the log's `kind`,
    the workflow's name) only its scope: `{}` all, `{"party": "AL"}` that Party's only, None none."""

    confidential: Mapping[str, dict[str, str] | None] = field(default_factory=dict)


def refuse_unless_auditing(actor: Actor, what: str = "reading the audit log") -> None:
    """Forbidden unless the actor holds an audit-log role (reading the log, verifying its chain)."""
    if not any(actor.has_role(role) for role in AUDIT_LOG_READERS):
        raise Forbidden(f"{what} needs one of: {', '.join(AUDIT_LOG_READERS)}")


def confidential_workflows() -> list[Workflow]:
    """The registered workflows whose items are confidential between Parties."""
    return [cls.workflow for cls in WORKFLOW_ITEMS if cls.workflow.party_scoped]


def audit_log_scope(actor: Actor, workflows: list[Workflow] | None = None) -> AuditLogScope:
    """The actor's scope of the audit log; Forbidden without an audit-log role."""
    refuse_unless_auditing(actor)
    chosen = confidential_workflows() if workflows is None else workflows
    return AuditLogScope({w.name: w.read_scope(actor) for w in chosen})


def reads_whole_log(actor: Actor) -> bool:
    """Whether the actor reads every entry of the log (no Party-confidential workflow narrowed): who may take a
    checkpoint or an export bundle, which hold every event."""
    try:
        return all(scope == {} for scope in audit_log_scope(actor).confidential.values())
    except Forbidden:
        return False
