"""Users: who am I, and the admin's user management (every change an audited event)."""

from typing import Annotated, Literal, Optional

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.deps import CurrentActor, RunnerDep, Service
from api.rendering import JSON
from domain.actor import PARTIES, ROLES
from domain.user import User

Role = Literal[ROLES]
Party = Literal[PARTIES]


_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f]+"  # no control character: "erik\x00@..." was accepted
Email = Annotated[str, StringConstraints(strict=True, max_length=254, pattern=f"^{_ADDRESS_PART}@{_ADDRESS_PART}$")]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9._-]{1,63}$")]
    password: Annotated[str, StringConstraints(strict=True, min_length=10, max_length=256)]
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(ROLES))]
    party: Optional[Party] = None
    email: Optional[Email] = None


class RoleGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    party: Optional[Party] = None


class EmailChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Optional[Email] = Field(..., description="Where reminders are e-mailed; null removes it")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, StringConstraints(strict=True, min_length=10, max_length=256)]
    current_password: Optional[Annotated[str, StringConstraints(strict=True, max_length=256)]] = Field(
        None, description="Your current password: required to change your own, not for an admin's reset")


class Deactivation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)]


class Erasure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)]


class ErasurePublic(BaseModel):
    username: str
    keys_deleted: int
    rows_scrubbed: int
    events_in_clear: int = Field(description="Events stored before encryption: they still hold the plain value")
    disk: str
    message: str


class UserPublic(BaseModel):
    username: str
    roles: list[str]
    party: Optional[str]
    email: Optional[str]
    active: bool
    version: int


def user_document(user: User) -> dict:
    return {"username": user.username, "roles": user.roles, "party": user.party, "email": user.email_shown,
            "active": user.is_active, "version": user.version}


router = APIRouter(tags=["Users"])


@router.get("/me", response_model=UserPublic)
def me(actor: CurrentActor, service: Service):
    """The signed-in user: name, roles, Party."""
    return JSON(user_document(service.user(actor.username)))


@router.get("/users", response_model=list[UserPublic])
def list_users(actor: CurrentActor, service: Service):
    """Every user (admin)."""
    return JSON([user_document(u) for u in service.users(actor)])


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(body: UserCreate, actor: CurrentActor, service: Service):
    """Register a user with roles (admin)."""
    user = service.register_user(body.username, body.password, body.roles, party=body.party, email=body.email,
                                 actor=actor)
    return JSON(user_document(user), status_code=201, headers={"Location": f"/users/{user.username}"})


@router.post("/users/{username}/roles", response_model=UserPublic)
def grant_role(username: str, body: RoleGrant, actor: CurrentActor, service: Service):
    """Grant a role (admin)."""
    return JSON(user_document(service.grant_role(username, body.role, party=body.party, actor=actor)))


@router.delete("/users/{username}/roles/{role}", response_model=UserPublic)
def revoke_role(username: str, role: str, actor: CurrentActor, service: Service):
    """Revoke a role (admin); it is gone from the user's next request."""
    return JSON(user_document(service.revoke_role(username, role, actor=actor)))


@router.put("/users/{username}/email", response_model=UserPublic)
def change_email(username: str, body: EmailChange, actor: CurrentActor, service: Service):
    """Change where reminders are e-mailed: your own address, or anyone's as an admin (an event on the user)."""
    return JSON(user_document(service.change_email(username, body.email, actor=actor)))


@router.post("/users/{username}/password", status_code=204, responses={
    403: {"description": "Not your own and not an admin, or the current password is wrong"},
    422: {"description": "Changing your own without current_password"}})
def change_password(username: str, body: PasswordChange, actor: CurrentActor, service: Service):
    """Change a password: your own (with the current one), or anyone's as an admin; every token of the user ends."""
    service.change_password(username, body.password, actor=actor, current_password=body.current_password)


@router.post("/users/{username}/deactivate", response_model=UserPublic)
def deactivate_user(username: str, body: Deactivation, actor: CurrentActor, service: Service):
    """Deactivate a user, with a reason (admin): no more sign-in, and every token of theirs ends."""
    return JSON(user_document(service.deactivate_user(username, body.reason, actor=actor)))


@router.post("/users/{username}/reactivate", response_model=UserPublic)
def reactivate_user(username: str, body: Deactivation, actor: CurrentActor, service: Service):
    """Let a deactivated user sign in again, with a reason (admin)."""
    return JSON(user_document(service.reactivate_user(username, body.reason, actor=actor)))


@router.post("/users/{username}/erase", response_model=ErasurePublic, responses={
    403: {"description": "Not an admin"}})
def erase_personal_data(username: str, body: Erasure, actor: CurrentActor, service: Service, runner: RunnerDep):
    """Erase a user's personal data, with a reason (admin): their keys are deleted, the erasure is an event on them."""
    from personal_data.erasure import erase_person

    return JSON(erase_person(service, runner.engine, username, body.reason, actor=actor).document())
