"""The admin's pages for users: the list, adding one, and on each user roles, e-mail, password and access.

Every change goes through the application service's user administration (domain/user_admin.py),
which refuses anyone but an admin and records each change as an event on the user; the bodies
are checked by the same schemas as the JSON API's (api/users.py), so a page accepts no more.
The admin's landing page links to everything the back office holds for the caller's roles.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.calendar_pages import router as closures_router
from api.delivery_pages import router as deliveries_router
from api.back_office import error_page, problem_words, refuse_unless, render
from api.deps import RunnerDep, Service
from api.page_session import CHECKED_POST, FormFields, PageActor
from api.users import Deactivation, EmailChange, Erasure, PasswordChange, RoleGrant, UserCreate
from domain.actor import PARTIES, ROLES, Actor
from domain.application import SecretariatApplication
from domain.calendar_admin import CALENDAR_KEEPERS
from domain.errors import DomainError, Forbidden, NotFound
from scheduler.outbox import DELIVERY_READERS

router = APIRouter(include_in_schema=False)
router.include_router(closures_router)
router.include_router(deliveries_router)
USER_ADMINS = ("admin",)
SECTION = "admin"
CHANGES = ("grant", "revoke", "email", "password", "deactivate", "reactivate", "erase")
DONE = {"added": "The user was added: they can sign in now.", "grant": "The role was granted.",
        "revoke": "The role was revoked.", "email": "The e-mail address was changed.",
        "password": "The password was reset: every session of the user has ended.",
        "deactivate": "The user was deactivated: they can no longer sign in.",
        "reactivate": "The user was reactivated: they can sign in again.",
        "erase": "The user's personal data was erased: it reads [erased] from now on."}


def back_office_areas(actor: Actor) -> list[dict[str, str]]:
    """The back-office pages the actor's roles open, for the landing page and the overview."""
    areas = [("Users", "/ui/admin/users", "Add users, grant and revoke roles, reset passwords, deactivate.",
              USER_ADMINS),
             ("Business calendar", "/ui/admin/closures", "Days the Secretariat is closed: deadlines skip them.",
              CALENDAR_KEEPERS),
             ("Deliveries", "/ui/admin/deliveries", "Reminders sent by e-mail and webhook: failed ones, "
              "waiting ones, and a second try.", DELIVERY_READERS)]
    return [{"title": t, "url": u, "text": x} for t, u, x, roles in areas if any(actor.has_role(r) for r in roles)]


@router.get("/ui/admin")
def admin_home(request: Request, actor: PageActor):
    """The back office: links to the pages the caller's roles open."""
    areas = back_office_areas(actor)
    if not areas:
        return error_page(request, actor, _not_for(actor))
    return render(request, "admin_home.html", actor, section=SECTION, areas=areas)


@router.get("/ui/admin/users")
def users_page(request: Request, service: Service, actor: PageActor):
    """Every user with roles, Party, e-mail and whether they may sign in; and the form to add one."""
    return _users_page(request, service, actor, {}, None)


@router.post("/ui/admin/users", dependencies=CHECKED_POST)
def add_user(request: Request, service: Service, actor: PageActor, form: FormFields):
    """Add a user from the form; a refusal shows the form again with what to fix."""
    try:
        refuse_unless(actor, USER_ADMINS, "managing users")
        body = UserCreate(username=form.get("username", "").strip(), password=form.get("password", ""),
                          roles=[r for r in ROLES if form.get(f"role-{r}")], party=form.get("party") or None,
                          email=form.get("email", "").strip() or None)
        service.register_user(body.username, body.password, body.roles, party=body.party, email=body.email,
                              actor=actor)
    except (DomainError, ValidationError) as error:
        return _users_page(request, service, actor, form, error)
    return RedirectResponse(f"/ui/admin/users/{body.username}?done=added", 303)


@router.get("/ui/admin/users/{username}")
def user_page(request: Request, username: str, service: Service, actor: PageActor, done: str = ""):
    """One user: roles, Party, e-mail, access, and a form for each change."""
    return _user_page(request, service, actor, username, done=DONE.get(done))


@router.post("/ui/admin/users/{username}/{change}", dependencies=CHECKED_POST)
def change_user(request: Request, username: str, change: str, service: Service, actor: PageActor,
                form: FormFields, runner: RunnerDep):
    """Apply one change to a user; a refusal shows the user again, unchanged, with the reason."""
    try:
        refuse_unless(actor, USER_ADMINS, "managing users")
        if change == "erase" and len(username) <= 64:
            from personal_data.erasure import erase_person

            erase_person(service, runner.engine, username, Erasure(reason=form.get("reason", "")).reason, actor=actor)
        else:
            _apply(service, username, change, form, actor)
    except (DomainError, ValidationError) as error:
        return _user_page(request, service, actor, username, error=error, failed=change)
    return RedirectResponse(f"/ui/admin/users/{username}?done={change}", 303)


def _users_page(request: Request, service: SecretariatApplication, actor: Actor, given: dict[str, str],
                error: DomainError | ValidationError | None) -> Response:
    try:
        users = service.users(actor)  # admins only: anyone else is refused here
    except DomainError as refused:
        return error_page(request, actor, refused, section=SECTION)
    status, title, detail = problem_words(error) if error else (200, "", "")
    return render(request, "admin_users.html", actor, section=SECTION, status=status, users=users, given=given,
                  error_title=title, error_detail=detail, done=None, roles=ROLES, parties=PARTIES)


def _user_page(request: Request, service: SecretariatApplication, actor: Actor, username: str, *,
               done: str | None = None, error: DomainError | ValidationError | None = None,
               failed: str = "") -> Response:
    try:
        refuse_unless(actor, USER_ADMINS, "managing users")
        if len(username) > 64:  # no username is longer: answered before the store is asked
            raise NotFound(f"no user named {username[:64]!r}…")
        user = service.user(username)
    except DomainError as refused:
        return error_page(request, actor, refused, section=SECTION)
    status, title, detail = problem_words(error) if error else (200, "", "")
    return render(request, "admin_user.html", actor, section=SECTION, status=status, user=user, done=done,
                  error_title=title, error_detail=detail, failed=failed, roles=ROLES, parties=PARTIES,
                  grantable=[r for r in ROLES if r not in user.roles])


def _apply(service: SecretariatApplication, username: str, change: str, form: dict[str, str], actor: Actor) -> None:
    """One change to a user, its form's fields checked by the API's own schemas first."""
    if len(username) > 64:
        raise NotFound(f"no user named {username[:64]!r}…")
    if change == "grant":
        grant = RoleGrant(role=form.get("role", ""), party=form.get("party") or None)
        service.grant_role(username, grant.role, party=grant.party, actor=actor)
    elif change == "revoke":
        service.revoke_role(username, RoleGrant(role=form.get("role", "")).role, actor=actor)
    elif change == "email":
        service.change_email(username, EmailChange(email=form.get("email", "").strip() or None).email, actor=actor)
    elif change == "password":
        service.change_password(username, PasswordChange(password=form.get("password", "")).password, actor=actor)
    elif change in ("deactivate", "reactivate"):
        reason = Deactivation(reason=form.get("reason", "")).reason
        (service.deactivate_user if change == "deactivate" else service.reactivate_user)(username, reason, actor=actor)
    else:
        raise NotFound(f"there is no change {change[:40]!r} of a user; there are: {', '.join(CHANGES)}")


def _not_for(actor: Actor) -> DomainError:
    return Forbidden(f"the back office is for admins and the head; {actor.username} holds: "
                     f"{', '.join(sorted(actor.roles)) or 'no role'}")
