"""The one list of workflows. Adding a workflow is its module (domain/<name>.py) plus one line here.

Routes, views, pages, dashboard counts, audit-log scope, reminders and `/workflows` all read
this registry when the app is built or a read is answered, never when a module is imported,
so a workflow registered before the app is built (as the plug-in test does) is served like these.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, TypeVar

from domain.item import WorkflowItem
from domain.mandate import Mandate
from domain.meeting import Meeting
from domain.support_request import SupportRequest
from domain.task import Task
from domain.workflow import Link, Workflow

V = TypeVar("V")


class Registry:
    """Workflow item classes, in the order they were registered, each known by its collection."""

    def __init__(self, *classes: type[WorkflowItem]) -> None:
        self._by_collection: dict[str, type[WorkflowItem]] = {}
        self._progress: list | None = None  # progress_link's answer, until the registry changes
        for cls in classes:
            self.register(cls)
        # Live views: a dict built from them now would miss what is registered later.
        self.collections: Mapping[str, type[WorkflowItem]] = _View(self, lambda cls: cls)
        self.workflows: Mapping[str, Workflow] = _View(self, lambda cls: cls.workflow)

    def register(self, cls: type[WorkflowItem]) -> type[WorkflowItem]:
        workflow = cls.workflow
        taken = {c.workflow.name for c in self} | {c.__name__ for c in self}
        assert workflow.collection not in self._by_collection, f"collection {workflow.collection!r} is taken"
        assert workflow.name not in taken and cls.__name__ not in taken, f"{cls.__name__} ({workflow.name}) is taken"
        self._by_collection[workflow.collection] = cls
        self._progress = None
        return cls

    def unregister(self, cls: type[WorkflowItem]) -> None:
        if self._by_collection.get(cls.workflow.collection) is cls:
            del self._by_collection[cls.workflow.collection]
            self._progress = None

    @contextmanager
    def registered(self, cls: type[WorkflowItem]) -> Iterator[type[WorkflowItem]]:
        """The class registered for the block only (a test's own workflow must not outlive the test)."""
        self.register(cls)
        try:
            yield cls
        finally:
            self.unregister(cls)

    def by_collection(self, collection: str) -> type[WorkflowItem]:
        """The class serving `collection`; KeyError if none does."""
        return self._by_collection[collection]

    def __iter__(self) -> Iterator[type[WorkflowItem]]:
        return iter(list(self._by_collection.values()))

    def __len__(self) -> int:
        return len(self._by_collection)

    def __contains__(self, cls: object) -> bool:
        return cls in self._by_collection.values()

    def links(self) -> list[tuple[type[WorkflowItem], Link]]:
        """Every (child class, link) declared by a registered workflow."""
        return [(cls, link) for cls in self for link in cls.links]

    def progress_link(self) -> tuple[type[WorkflowItem], Link] | None:
        """The link whose parents keep progress of their children (a task's mandate); None if none does.

        The views keep one such count per item (view_mandate_tasks), so at most one link may declare it.
        """
        if self._progress is None:  # asked for every item a view writes: worked out once
            self._progress = [(cls, link) for cls, link in self.links() if link.progress]
            assert len(self._progress) <= 1, f"more than one link keeps progress: {self._progress}"
        return self._progress[0] if self._progress else None

    def progress_parent(self, item: WorkflowItem) -> str | None:
        """The id of the item whose progress `item` counts in (a task's mandate); None if none."""
        found = self.progress_link()
        if found is None or not isinstance(item, found[0]):
            return None
        return item.fields.get(found[1].field) or None

    def progress_collection(self) -> str | None:
        """The collection whose items keep progress of their children (mandates); None if none does."""
        found = self.progress_link()
        return found[1].collection if found else None


class _View(Mapping[str, V]):
    """Collection -> something of its class, as the registry holds them at the time of asking."""

    def __init__(self, registry: Registry, pick: Callable[[type[WorkflowItem]], V]) -> None:
        self._registry, self._pick = registry, pick

    def __getitem__(self, collection: str) -> V:
        return self._pick(self._registry.by_collection(collection))

    def __iter__(self) -> Iterator[str]:
        return iter([cls.workflow.collection for cls in self._registry])

    def __len__(self) -> int:
        return len(self._registry)


WORKFLOW_ITEMS = Registry(Mandate, Task, SupportRequest, Meeting)


def register(cls: type[WorkflowItem]) -> type[WorkflowItem]:
    """Add a workflow (before the app is built); usable as a class decorator."""
    return WORKFLOW_ITEMS.register(cls)


def unregister(cls: type[WorkflowItem]) -> None:
    WORKFLOW_ITEMS.unregister(cls)


def by_collection(collection: str) -> type[WorkflowItem]:
    return WORKFLOW_ITEMS.by_collection(collection)
