"""Commands keep a copy of what they saved in the aggregate cache, and trust the cache for users that exist.

On each real store, with two applications on it as two processes would be: what one saves the other's next
command still sees (the fast-forward), the item a command answers with is not the cached one, and an assignee
registered by the other application is a user while a name never registered is not.
"""

from __future__ import annotations

import pytest

from domain.errors import Conflict, ValidationFailed
from tests.factories import ERIK, HANA, SARA, ADMIN, task_values


def test_what_one_application_saves_the_others_next_command_sees(two_applications):
    first, second = two_applications
    task = first.create_task(ERIK, task_values()).item
    first.act("tasks", task.id, "start", SARA, {})  # cached by `first` at version 2
    second.act("tasks", task.id, "submit", SARA, {"result": "Done"})
    assert first.act("tasks", task.id, "approve", ERIK, {}).item.version == 4
    assert first.get_item("tasks", task.id, SARA).fields["result"] == "Done"


def test_a_stale_cached_copy_still_loses_on_the_version_at_save(two_applications):
    first, second = two_applications
    task = first.create_task(ERIK, task_values()).item
    loaded = first.get_item("tasks", task.id, SARA)
    second.act("tasks", task.id, "start", SARA, {})
    loaded.act("cancel", HANA, {}, now=first.clock(), reason="Not needed")
    with pytest.raises(Conflict):
        first._save_outcome(loaded, [], HANA, None, "", status=200)
    assert first.get_item("tasks", task.id, SARA).state == "in_progress"


def test_the_item_a_command_answers_with_is_not_the_cached_one(two_applications):
    first, _second = two_applications
    answered = first.create_task(ERIK, task_values(title="As saved")).item
    answered.fields["title"] = "Changed by a caller after the save"
    assert first.get_item("tasks", answered.id, SARA).fields["title"] == "As saved"
    answered = first.act("tasks", answered.id, "start", SARA, {}).item
    answered.fields["title"] = "Changed again"
    assert first.get_item("tasks", answered.id, SARA).fields["title"] == "As saved"


def test_an_assignee_registered_by_another_application_is_a_user_and_an_unknown_name_is_not(two_applications):
    first, second = two_applications
    assert first.create_task(ERIK, task_values(assignee="sara")).item.fields["assignee"] == "sara"  # sara cached
    with pytest.raises(ValidationFailed, match="'newcomer' is not a user"):
        first.create_task(ERIK, task_values(assignee="newcomer"))
    second.register_user("newcomer", "newcomer-password", ["secretariat"], actor=ADMIN)
    assert first.create_task(ERIK, task_values(assignee="newcomer")).item.fields["assignee"] == "newcomer"
    with pytest.raises(ValidationFailed, match="'nobody' is not a user"):
        first.create_task(ERIK, task_values(assignee="nobody"))
