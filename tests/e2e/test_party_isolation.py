"""A Party liaison sees and acts on their own Party's support requests only; the EWG sees none."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import assert_item, assert_problem, create, history_of, item_in_state, request_body


def test_a_party_liaison_never_sees_another_partys_request(as_user):
    alba = as_user("alba")
    theirs = create(as_user("milan"), "support-requests", request_body(party="RS"))
    url = f"/support-requests/{theirs['id']}"
    assert_problem(alba.get(url), 404)
    assert_problem(alba.get(f"{url}/history"), 404)
    assert_problem(alba.get(url, params={"version": 1}), 404)
    assert_problem(alba.get(url, params={"as_of": theirs["updated_at"]}), 404)
    # Milan, the auditor and the staff do see it.
    for user in ("milan", "audrey", "sara", "hana"):
        assert_item(as_user(user).get(url), version=1)


def test_another_partys_request_is_indistinguishable_from_a_missing_one(as_user):
    alba = as_user("alba")
    theirs = create(as_user("milan"), "support-requests", request_body(party="RS"))
    missing = str(uuid.uuid4())
    hidden = assert_problem(alba.get(f"/support-requests/{theirs['id']}"), 404)
    absent = assert_problem(alba.get(f"/support-requests/{missing}"), 404)
    assert {**hidden, "detail": hidden["detail"].replace(theirs["id"], "ID")} == {
        **absent, "detail": absent["detail"].replace(missing, "ID")}


def test_a_party_liaison_cannot_act_on_another_partys_request_and_it_stays_as_it_was(as_user):
    alba, sara = as_user("alba"), as_user("sara")
    theirs = item_in_state(as_user, "support-requests", "needs_info", creator="milan", party="RS")
    url = f"/support-requests/{theirs['id']}"
    assert_problem(alba.post(f"{url}/provide_info", json={"info": "Answer from the wrong Party"}), 404)
    assert_problem(alba.post(f"{url}/withdraw", json={"reason": "Not ours to withdraw"}), 404)
    assert_item(sara.get(url), state="needs_info", version=theirs["version"])
    assert len(history_of(sara, "support-requests", theirs["id"])) == theirs["version"]
    # The own Party may answer.
    answered = assert_item(as_user("milan").post(f"{url}/provide_info", json={"info": "Serbia and Montenegro"}),
                           state="screening")
    assert answered["info"] == "Serbia and Montenegro"


def test_a_party_liaisons_list_shows_only_their_own_partys_requests(as_user):
    alba = as_user("alba")
    mine = create(alba, "support-requests", request_body())
    theirs = create(as_user("milan"), "support-requests", request_body(party="RS"))

    page = alba.get("/support-requests", params={"limit": 500})
    assert page.status_code == 200
    items = page.json()["items"]
    assert items and {r["party"] for r in items} == {"AL"}
    assert page.json()["total"] == len(items)
    assert items[0]["id"] == mine["id"] and theirs["id"] not in {r["id"] for r in items}
    # Asking for the other Party's requests finds none; staff find both Parties'.
    other = alba.get("/support-requests", params={"party": "RS"})
    assert other.status_code == 200 and other.json() == {"items": [], "total": 0}
    everyone = as_user("sara").get("/support-requests", params={"limit": 500}).json()["items"]
    assert {mine["id"], theirs["id"]} <= {r["id"] for r in everyone}
    assert page.json()["total"] < len(everyone)


def test_a_party_liaison_cannot_submit_for_another_party(as_user):
    alba, milan = as_user("alba"), as_user("milan")
    total = milan.get("/support-requests").json()["total"]
    assert_problem(alba.post("/support-requests", json=request_body(party="RS")), 403)
    assert milan.get("/support-requests").json()["total"] == total


def test_the_ewg_may_not_list_nor_submit_support_requests_and_none_exists_for_it_by_id(as_user):
    erik = as_user("erik")
    request = create(as_user("alba"), "support-requests", request_body())
    url = f"/support-requests/{request['id']}"
    assert_problem(erik.get("/support-requests"), 403)
    assert_problem(erik.post("/support-requests", json=request_body()), 403)
    # By id, as for an id that names nothing (tests/e2e/test_no_existence_oracle.py compares them).
    assert_problem(erik.get(url), 404, "no support request with id")
    assert_problem(erik.get(f"{url}/history"), 404, "no support request with id")
    assert_problem(erik.post(f"{url}/start_screening"), 404, "no support request with id")
    assert len(history_of(as_user("sara"), "support-requests", request["id"])) == 1


def test_a_party_liaisons_allowed_actions_are_only_those_of_their_own_party(as_user):
    alba = as_user("alba")
    mine = item_in_state(as_user, "support-requests", "needs_info")
    assert_item(alba.get(f"/support-requests/{mine['id']}"), allowed={"provide_info", "withdraw"})
    assert_item(as_user("sara").get(f"/support-requests/{mine['id']}"),
                allowed={"provide_info", "withdraw"})
    # The head may do all the secretariat may (DOMAIN.md's roles table), and reject besides.
    assert_item(as_user("hana").get(f"/support-requests/{mine['id']}"),
                allowed={"provide_info", "withdraw", "reject"})
