"""What a person reads on the pages: words, not internals (api/page_display.py, api/history_display.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from api.history_display import addressee, event_label
from api.page_display import in_words, label_for, local_time
from domain.support_request import summary

LJUBLJANA = ZoneInfo("Europe/Ljubljana")


def test_a_state_reads_as_words():
    assert [label_for(s) for s in ("in_review", "needs_info", "open")] == ["In review", "Needs info", "Open"]


def test_a_choice_loses_its_underscores_and_a_party_code_stays_as_it_is():
    assert (in_words("officer_exchange"), in_words("AL")) == ("officer exchange", "AL")


def test_an_event_reads_as_what_happened():
    assert event_label("SupportRequest.DuplicationCheckRecorded") == "Duplication check recorded"
    assert event_label("Mandate.TaskLinked") == "Task linked"


def test_times_are_shown_in_the_secretariats_zone_with_the_zone_named():
    winter, summer = datetime(2026, 1, 15, 8, 0, tzinfo=timezone.utc), datetime(2026, 7, 15, 8, 0, tzinfo=timezone.utc)
    assert local_time(winter, LJUBLJANA) == "2026-01-15 09:00 CET"
    assert local_time(summer, LJUBLJANA) == "2026-07-15 10:00 CEST"
    assert local_time("2026-07-15T08:00:00+00:00", LJUBLJANA) == "2026-07-15 10:00 CEST"


def test_a_reminder_is_addressed_to_people_and_roles_in_words():
    assert [addressee(a) for a in ("user:sara", "role:secretariat")] == ["sara", "the secretariat role"]


def test_a_support_request_title_quotes_the_start_of_its_description_on_one_line():
    assert summary("Planning workshop for a cross-border operation.") == "Planning workshop for a cross-border operation"
    long = "Exchange of four officers with the Montenegrin border police,\nfor three weeks in the summer season"
    assert summary(long) == "Exchange of four officers with the Montenegrin border…"
    assert len(summary("word " * 100)) <= 61
