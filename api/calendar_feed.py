"""The deadlines as an iCalendar feed, for the calendar people already use (`GET /calendar.ics`).

Calendar clients subscribe to a URL and cannot send an Authorization header, so besides the
access token the feed takes a calendar token in the query: long-lived, good for this route
only. The reader's roles are looked up on every request, so a revoked role empties the feed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Mapping

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from icalendar import Calendar, Event
from pydantic import BaseModel

from api.deps import BearerCredentials, CurrentActor, ReadModelsDep, Service, Tokens, actor_of
from api.expensive import expensive_read
from api.page_display import label_for
from api.rendering import JSON
from api.tokens import CALENDAR_SCOPE
from domain.actor import Actor
from domain.application import WORKFLOWS
from domain.errors import Conflict
from domain.item import WorkflowItem
from domain.meeting import WORKFLOW as MEETINGS

MAX_EVENTS = 2000  # the soonest; bounds an answer to about 0.6 MB and a second of rendering
MAX_MEETINGS = 500  # the newest planned: decades of the Committee's and the EWG's meetings
UID_DOMAIN = "secretariat"  # not the host: a UID must not change when the server moves
MEDIA_TYPE = "text/calendar; charset=utf-8"

router = APIRouter(tags=["Calendar feed"])


class CalendarFeedLink(BaseModel):
    url: str
    expires_at: datetime


def feed_reader(service: Service, tokens: Tokens, credentials: BearerCredentials,
                token: Annotated[str | None, Query(max_length=2048, description="A calendar token, from POST "
                                                   "/calendar/feed-token (for clients that cannot send headers)")]
                = None) -> Actor:
    """The user an access token (Authorization header) or a calendar token (`?token=`) names, roles as now."""
    if credentials is not None:
        return actor_of(service, tokens, credentials)
    if token is None:
        raise HTTPException(401, "the feed needs ?token=<calendar token> (its URL comes from POST "
                                 "/calendar/feed-token) or Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    holder = tokens.holder_of(token, scope=CALENDAR_SCOPE)
    actor = service.actor_holding(holder.username, holder.generation, calendar=True) if holder else None
    if actor is None:
        raise HTTPException(401, "the calendar token is invalid or expired, or its user signed out; get a new feed "
                                 "URL from POST /calendar/feed-token", headers={"WWW-Authenticate": "Bearer"})
    return actor


@router.get("/calendar.ics", response_class=Response, dependencies=[expensive_read(feed_reader)], responses={
    200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "An iCalendar (RFC 5545)"},
    401: {"description": "No token, or an invalid or expired one"}})
def calendar_feed(request: Request, reader: Annotated[Actor, Depends(feed_reader)], service: Service,
                  read_models: ReadModelsDep,
                  mine: Annotated[bool, Query(description="Only deadlines of items assigned to you")] = False):
    """Open deadlines you may read as an iCalendar feed: one all-day event each, soonest first, at most 2,000; and
    the meetings you may read, with their dates and place (not in the `mine` feed)."""
    rows = read_models.calendar_deadlines(reader, assignee=reader.username if mine else None, limit=MAX_EVENTS)
    calendar = Calendar.new(
        prodid="-//Secretariat//Deadlines//EN", method="PUBLISH", calscale="GREGORIAN",
        uid=f"{reader.username}.{'mine' if mine else 'all'}.deadlines@{UID_DOMAIN}",
        name="Secretariat: my deadlines" if mine else "Secretariat deadlines",
        description=f"Open deadlines of the Secretariat's items {'assigned to' if mine else 'readable by'} "
                    f"{reader.username}, soonest first; at most {MAX_EVENTS} events, so past that the latest "
                    f"are left out.",
        refresh_interval=timedelta(hours=1))
    stamp = service.clock().astimezone(timezone.utc)  # DTSTAMP is in UTC
    base_url = configured_base_url(request)
    for row in rows:
        calendar.add_component(deadline_event(row, base_url, stamp))
    if not mine and MEETINGS.may_read_some(reader):  # meetings are nobody's assignment
        meetings, _ = read_models.list_items(MEETINGS.collection, reader, {}, limit=MAX_MEETINGS)
        for meeting in meetings:
            calendar.add_component(meeting_event(meeting, base_url, stamp))
    # Private to the token's holder: no shared cache may keep a copy.
    return Response(calendar.to_ical(), media_type=MEDIA_TYPE, headers={"Cache-Control": "private, no-store"})


@router.post("/calendar/feed-token", response_model=CalendarFeedLink, responses={
    409: {"description": "SECRETARIAT_BASE_URL is not set, so there is no address to hand out"}})
def calendar_feed_token(request: Request, actor: CurrentActor, tokens: Tokens, service: Service,
                        mine: Annotated[bool, Query(description="A feed of only your assigned items")] = False):
    """A URL of your deadlines feed with a calendar-only token in it, to subscribe to in a calendar client."""
    base_url = configured_base_url(request)
    if base_url is None:
        # Never the Host header: anyone can send one, and the URL carries a year-long token.
        raise Conflict("the server does not know its public address, so it hands out no feed URL; the operator "
                       "sets SECRETARIAT_BASE_URL (e.g. https://secretariat.example.org)")
    token, expires_at = tokens.issue_calendar(actor.username, service.user(actor.username).generation_pair()[1])
    query = {"token": token, **({"mine": "true"} if mine else {})}
    feed = request.url_for("calendar_feed").include_query_params(**query)
    return JSON({"url": f"{base_url}{feed.path.lstrip('/')}?{feed.query}", "expires_at": expires_at})


def configured_base_url(request: Request) -> str | None:
    """Where people reach the Secretariat, ending with a slash: SECRETARIAT_BASE_URL, or None when unset.

    Never the request's own address: the Host header is the client's to choose.
    """
    configured = getattr(request.app.state, "base_url", None)
    return configured.rstrip("/") + "/" if configured else None


def deadline_event(row: Mapping[str, Any], base_url: str | None, stamp: datetime) -> Event:
    """One all-day event for one open deadline (a row of `ReadModels.calendar_deadlines`).

    No VALARM: the reminder ladder already raises `due_soon` the morning before, so an alarm
    would say it twice (and would cost half as much rendering again).
    """
    workflow = WORKFLOWS[row["collection"]]
    title, reference = row["title"] or row["item_id"], row["reference"]
    name = title if not reference or reference in title else f"{reference}: {title}"  # a mandate's names it
    # Without SECRETARIAT_BASE_URL there is no trustworthy address to link to, so no link.
    url = f"{base_url}ui/{row['collection']}/{row['item_id']}" if base_url else None
    details = [f"{workflow.title}, state: {row['state'].replace('_', ' ')}",
               f"Assignee: {row['assignee'] or 'nobody'}", *([f"Party: {row['party']}"] if row["party"] else []),
               *([url] if url else [])]  # in the text too: several clients never show the URL property
    return Event.new(
        uid=f"{row['item_id']}.{row['kind']}@{UID_DOMAIN}", stamp=stamp,
        start=row["due"], end=row["due"] + timedelta(days=1),
        summary=f"{label_for(row['kind'])}: {name[:200]}",
        description="\n".join(details), url=url,
        transparency="TRANSPARENT")  # a deadline does not make anyone busy that day


# A cancelled meeting stays in the feed as cancelled, so that subscribed calendars drop it.
MEETING_STATUS = {"planned": "TENTATIVE", "convened": "CONFIRMED", "concluded": "CONFIRMED",
                  "cancelled": "CANCELLED"}


def meeting_event(meeting: WorkflowItem, base_url: str | None, stamp: datetime) -> Event:
    """The meeting itself, all day from its first to its last day, where it takes place."""
    fields = meeting.fields
    url = f"{base_url}ui/{MEETINGS.collection}/{meeting.id}" if base_url else None
    details = [f"{MEETINGS.title}, state: {meeting.state}", *([f"Organiser: {fields['organiser']}"]
                                                            if fields.get("organiser") else []),
               *([f"Participants: {', '.join(fields['participants'])}"] if fields.get("participants") else []),
               *([url] if url else [])]
    return Event.new(
        uid=f"{meeting.id}.meeting@{UID_DOMAIN}", stamp=stamp, start=fields["starts_on"],
        end=fields["ends_on"] + timedelta(days=1), summary=meeting.title[:200], location=fields.get("place"),
        description="\n".join(details), url=url, status=MEETING_STATUS.get(meeting.state),
        sequence=meeting.version)  # a postponement is a newer version of the same event
