"""Meetings over HTTP, on SQLite and PostgreSQL: from planning to the mandates and tasks their conclusions
became, lineage both ways, who reads which meeting, the workflow table and the calendar feed (issue 11)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from icalendar import Calendar

from tests.e2e.conftest import act, assert_item, assert_problem, create, in_days, mandate_body, task_body, unique


def meeting_body(**overrides):
    return {"body": "com", "title": unique("Committee of Ministers meeting "), "place": "Sofia",
            "starts_on": in_days(120), "ends_on": in_days(121), "participants": ["AL", "BG", "SELEC"], **overrides}


def answer(response, the_id):
    """Status, content type and body, with the id blanked out: what tells one id from another."""
    return response.status_code, response.headers["content-type"], response.text.replace(the_id, "{ID}")


def test_a_meeting_from_planning_to_the_mandates_and_tasks_its_conclusions_became(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    meeting = create(sara, "meetings", meeting_body())
    assert meeting["state"] == "planned" and meeting["documents_due_days"] == 10
    assert [d["kind"] for d in meeting["deadlines"] if d["open"]] == ["documents_due"]
    mid = meeting["id"]

    act(sara, "meetings", mid, "convene")
    act(sara, "meetings", mid, "record_conclusion", {"conclusion_text": "Draft a strategy", "tasks_someone": True})
    act(sara, "meetings", mid, "record_conclusion", {"conclusion_text": "Survey the Parties", "tasks_someone": True})
    assert_problem(sara.post("/mandates", json=mandate_body(meeting_id=mid, conclusion=3)), 422, "no conclusion 3")
    assert_problem(sara.post("/mandates", json=mandate_body(meeting_id=str(uuid4()), conclusion=1)), 422,
                   "meeting_id")
    mandate = create(sara, "mandates", mandate_body(meeting_id=mid, conclusion=1))
    assert (mandate["meeting_id"], mandate["conclusion"], mandate["meeting"]) == (mid, 1, "CoM, Sofia")
    survey = create(erik, "tasks", task_body(title=unique("Survey "), meeting_id=mid, conclusion=2))
    drafting = create(erik, "tasks", task_body(title=unique("Draft "), mandate_id=mandate["id"]))
    concluded = act(sara, "meetings", mid, "conclude")
    assert concluded["state"] == "concluded"
    assert [d["kind"] for d in concluded["deadlines"] if d["open"]] == ["minutes_due"]
    assert concluded["conclusions"]["1"]["made"] == [{"collection": "mandates", "id": mandate["id"]}]
    assert concluded["conclusions"]["2"]["made"] == [{"collection": "tasks", "id": survey["id"]}]

    down = sara.get(f"/meetings/{mid}/lineage")
    assert down.status_code == 200, down.text
    tree = down.json()
    assert tree["meeting"]["state"] == "concluded"
    assert [(c["number"], c["text"]) for c in tree["conclusions"]] == [(1, "Draft a strategy"),
                                                                      (2, "Survey the Parties")]
    made_mandate = tree["conclusions"][0]["made"][0]
    assert (made_mandate["id"], made_mandate["state"]) == (mandate["id"], "adopted")
    assert made_mandate["progress"] == {"tasks": {"open": 1}, "open": 1, "done": 0, "percent_done": 0.0}
    assert [(t["id"], t["state"]) for t in made_mandate["tasks"]] == [(drafting["id"], "open")]
    assert made_mandate["tasks"][0]["open_deadlines"] == [{"kind": "due", "due": drafting["due"]}]
    assert [m["id"] for m in tree["conclusions"][1]["made"]] == [survey["id"]]

    up = sara.get(f"/tasks/{drafting['id']}/lineage").json()
    assert (up["via_mandate"], up["mandate"]["id"], up["meeting"]["id"]) == (True, mandate["id"], mid)
    assert up["conclusion"] == {"number": 1, "text": "Draft a strategy", "tasks_someone": True}
    up = erik.get(f"/tasks/{survey['id']}/lineage").json()
    assert (up["via_mandate"], up["mandate"], up["conclusion"]["number"]) == (False, None, 2)
    up = sara.get(f"/mandates/{mandate['id']}/lineage").json()
    assert (up["item"]["id"], up["meeting"]["id"], up["conclusion"]["number"]) == (mandate["id"], mid, 1)


def test_the_ewg_plans_and_runs_its_own_meetings_only(as_user):
    erik = as_user("erik")
    assert_problem(erik.post("/meetings", json=meeting_body()), 403)
    ewg = create(erik, "meetings", meeting_body(body="ewg", title=unique("EWG meeting ")))
    assert ewg["documents_due_days"] == 5
    assert_item(erik.post(f"/meetings/{ewg['id']}/convene"), state="convened")
    com = create(as_user("sara"), "meetings", meeting_body())
    assert_problem(erik.post(f"/meetings/{com['id']}/convene"), 403)


def test_postponing_moves_the_dates_and_the_deadlines_and_ends_must_follow_starts(as_user):
    sara = as_user("sara")
    assert_problem(sara.post("/meetings", json=meeting_body(starts_on=in_days(120), ends_on=in_days(119))), 422,
                   "ends_on")
    meeting = create(sara, "meetings", meeting_body())
    before = {d["kind"]: d["due"] for d in meeting["deadlines"]}
    assert_problem(sara.post(f"/meetings/{meeting['id']}/postpone",
                             json={"starts_on": in_days(150), "ends_on": in_days(150)}), 422, "reason")
    moved = act(sara, "meetings", meeting["id"], "postpone", {"starts_on": in_days(150), "ends_on": in_days(150),
                                                               "reason": "The host asked for autumn"})
    after = {d["kind"]: d["due"] for d in moved["deadlines"]}
    assert moved["state"] == "planned" and after["documents_due"] > before["documents_due"]
    assert date.fromisoformat(after["minutes_due"]) > date.fromisoformat(in_days(150))


def test_a_party_liaison_reads_only_the_meetings_their_party_takes_part_in(as_user):
    sara, alba, milan = as_user("sara"), as_user("alba"), as_user("milan")
    meeting = create(sara, "meetings", meeting_body(participants=["AL", "SELEC"]))
    act(sara, "meetings", meeting["id"], "convene")
    act(sara, "meetings", meeting["id"], "record_conclusion", {"conclusion_text": "Share plans"})
    create(sara, "mandates", mandate_body(meeting_id=meeting["id"], conclusion=1))

    assert alba.get(f"/meetings/{meeting['id']}").status_code == 200
    assert meeting["id"] in [m["id"] for m in alba.get("/meetings", params={"limit": 500}).json()["items"]]
    assert meeting["id"] not in [m["id"] for m in milan.get("/meetings", params={"limit": 500}).json()["items"]]
    # Alba reads the meeting's conclusions, but not the mandate made from one: Parties do not read mandates.
    lineage = alba.get(f"/meetings/{meeting['id']}/lineage").json()
    assert lineage["conclusions"][0]["made"] == []

    random_id = str(uuid4())
    for path in ("/meetings/{}", "/meetings/{}/lineage", "/meetings/{}/history"):
        hidden, missing = milan.get(path.format(meeting["id"])), milan.get(path.format(random_id))
        assert hidden.status_code == 404
        assert answer(hidden, meeting["id"]) == answer(missing, random_id)


def test_the_workflows_document_and_diagram_show_the_meetings_table(as_user):
    sara = as_user("sara")
    workflows = {w["collection"]: w for w in sara.get("/workflows").json()["workflows"]}
    meetings = workflows["meetings"]
    assert meetings["states"] == ["planned", "convened", "concluded", "cancelled"]
    assert {a["name"] for a in meetings["actions"]} == {"plan", "set_agenda", "convene", "record_conclusion",
                                                        "record_minutes", "conclude", "postpone", "cancel"}
    diagram = sara.get("/workflows/meetings.mmd")
    assert diagram.status_code == 200
    assert "planned --> convened: convene" in diagram.text and "convened --> planned: postpone" in diagram.text


def test_meetings_are_in_the_calendar_feed_of_those_who_may_read_them(as_user):
    sara = as_user("sara")
    meeting = create(sara, "meetings", meeting_body(participants=["AL"], place="Skopje"))

    def meeting_events(user):
        feed = Calendar.from_ical(as_user(user).get("/calendar.ics").content)
        return {str(e["UID"]): e for e in feed.walk("VEVENT") if str(e["UID"]).endswith(".meeting@secretariat")}

    uid = f"{meeting['id']}.meeting@secretariat"
    event = meeting_events("sara")[uid]
    assert (str(event["LOCATION"]), str(event["SUMMARY"])) == ("Skopje", meeting["title"])
    assert event["DTSTART"].dt == date.fromisoformat(meeting["starts_on"])
    assert event["DTEND"].dt == date.fromisoformat(meeting["ends_on"]).fromordinal(
        date.fromisoformat(meeting["ends_on"]).toordinal() + 1)
    assert uid in meeting_events("alba") and uid not in meeting_events("milan")
