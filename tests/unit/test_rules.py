"""The named business rules of DOMAIN.md."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import holidays
import pytest

from domain.actor import Actor
from domain.calendar import BusinessCalendar
from domain.errors import RuleBroken, ValidationFailed
from domain.support_request import SupportRequest
from tests.unit.test_transitions import given_item_in

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
HANA = Actor("hana", frozenset({"head"}))
ALBA = Actor("alba", frozenset({"party"}), "AL")
REQUEST = {"party": "AL", "kind": "financial", "activity": "officer_exchange", "description": "Exchange",
           "amount_eur": Decimal("5000"), "operational_involvement": False}


def test_approve_is_refused_without_a_duplication_check_in_plain_words():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None)
    with pytest.raises(RuleBroken) as refused:
        item.act("approve", HANA, {}, now=NOW)
    assert str(refused.value) == ("cannot approve: the duplication check is not recorded yet; "
                                  "record the duplication check first")
    assert item.state == "screening"


def test_approve_is_not_offered_but_listed_as_blocked_with_its_fix_until_the_duplication_check():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None)
    assert "approve" not in item.allowed_actions(HANA)
    assert item.blocked_actions(HANA) == [{"action": "approve", "reason": "the duplication check is not recorded yet",
                                           "fix": "record the duplication check first"}]
    item.act("record_duplication_check", HANA, {"duplicates_found": False}, now=NOW)
    assert "approve" in item.allowed_actions(HANA) and item.blocked_actions(HANA) == []


def test_blocked_actions_list_only_what_the_callers_role_may_take():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None)
    assert item.blocked_actions(Actor("sara", frozenset({"secretariat"}))) == []


def test_approve_is_refused_when_the_duplication_check_found_a_duplicate():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None)
    item.act("record_duplication_check", HANA, {"duplicates_found": True, "notes": "SELEC funds it"}, now=NOW)
    with pytest.raises(RuleBroken, match="duplicate other efforts"):
        item.act("approve", HANA, {}, now=NOW)


def test_approve_is_refused_for_operational_involvement_even_after_a_clean_check():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None, operational_involvement=True)
    item.act("record_duplication_check", HANA, {"duplicates_found": False}, now=NOW)
    with pytest.raises(RuleBroken, match="no operational involvement"):
        item.act("approve", HANA, {}, now=NOW)


def test_approve_succeeds_after_a_clean_duplication_check():
    item = given_item_in(SupportRequest, "screening", duplicates_found=None)
    item.act("record_duplication_check", HANA, {"duplicates_found": False}, now=NOW)
    item.act("approve", HANA, {}, now=NOW)
    assert item.state == "approved"


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-5")])
def test_a_financial_request_needs_an_amount_above_zero(amount):
    with pytest.raises(ValidationFailed, match="amount_eur") as refused:
        SupportRequest.start_new(ALBA, {**REQUEST, "amount_eur": amount}, now=NOW)
    assert refused.value.field == "amount_eur"


def test_a_logistical_request_needs_no_amount():
    item = SupportRequest.start_new(ALBA, {**REQUEST, "kind": "logistical", "amount_eur": None}, now=NOW)
    assert item.state == "submitted" and "amount_eur" not in item.fields


def test_a_party_liaison_submits_only_for_their_own_party():
    from domain.errors import Forbidden

    with pytest.raises(Forbidden):
        SupportRequest.start_new(ALBA, {**REQUEST, "party": "RS"}, now=NOW)


SLOVENIA = BusinessCalendar(holidays=holidays.country_holidays("SI"))


def test_ten_working_days_skip_weekends():
    # Monday 23 November 2026 + 10 working days = Monday 7 December.
    assert SLOVENIA.add_working_days(date(2026, 11, 23), 10) == date(2026, 12, 7)


def test_ten_working_days_skip_easter_monday():
    # Easter Monday 2027 is 29 March: a request of Friday 19 March is due on Monday 5 April, not Friday 2 April.
    assert not SLOVENIA.is_working_day(date(2027, 3, 29))
    assert SLOVENIA.add_working_days(date(2027, 3, 19), 10) == date(2027, 4, 5)


def test_ten_working_days_skip_christmas_independence_day_and_new_year():
    # Friday 25 December and Friday 1 January are Slovenian public holidays (the 26th and 2nd fall on Saturdays).
    assert SLOVENIA.add_working_days(date(2026, 12, 18), 10) == date(2027, 1, 5)


def test_closure_days_are_days_off_too():
    closure = frozenset({date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)})
    calendar = BusinessCalendar(holidays=holidays.country_holidays("SI"), closures=closure)
    assert calendar.add_working_days(date(2026, 12, 18), 10) == date(2027, 1, 11)
