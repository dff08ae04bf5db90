"""The `secretariat` command: serve, demo, users."""

from __future__ import annotations

import getpass
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from domain.actor import PARTIES, ROLES, Actor
from domain.errors import DomainError
from secretariat.settings import Settings

app = typer.Typer(help="Secretariat: event-sourced workflows for a convention secretariat.",
                  no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
users = typer.Typer(help="Manage users and their roles (every change is an audited event).", no_args_is_help=True)
app.add_typer(users, name="users")
projections = typer.Typer(help="Inspect and rebuild the read models.", no_args_is_help=True)
app.add_typer(projections, name="projections")
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for e in error.errors():
            console.print(f"[red]SECRETARIAT_{str(e['loc'][0]).upper()}[/red]: {e['msg']}")
        raise typer.Exit(2) from None


def _service():
    from secretariat.bootstrap import build_application

    return build_application(_settings())


def _projections():
    from secretariat.bootstrap import build_application, build_projections
    from secretariat.settings import event_store_env

    settings = _settings()
    service = build_application(settings)
    read_models, runner = build_projections(service, event_store_env(settings.database_url))
    return service, read_models, runner


def _cli_actor() -> Actor:
    """Whoever can run this command administers the store; their changes are recorded under their OS name."""
    return Actor.system(f"cli:{getpass.getuser()}", "admin")


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes (stateless; share the store)", min=1)] = 1):
    """Run the HTTP API over the configured store."""
    import uvicorn

    settings = _settings()
    settings.token_key()  # make (or check) the key file once, before any worker starts
    # Likewise create the read models, or rebuild one whose definition changed, before any worker starts.
    service, _read_models, runner = _projections()
    runner.engine.dispose()
    service.close()
    console.print(f"Secretariat on http://{host}:{port}  (store: {settings.database_url}; API docs at /docs)")
    uvicorn.run("secretariat.server:api_from_settings", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False, proxy_headers=False)


@app.command()
def demo():
    """Create the demo users and the demo data drawn from the founding texts (safe to run twice)."""
    from secretariat.demo import seed

    created = seed(_service(), console=console)
    console.print(f"Demo ready: {created} new records. Users sign in with password = username: "
                  "admin, sara, hana, erik, alba, milan, audrey.")


@app.command()
def project():
    """Keep the read models up to date, alone (for scale-out: any number may run at once)."""
    import signal
    import threading

    _service_, _read_models, runner = _projections()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"Following the log for: {', '.join(p.name for p in runner.projections)} (Ctrl-C stops)")
    runner.follow(stop)


@projections.command("status")
def projections_status():
    """Each view's position, lag behind the log, and rows."""
    from sqlalchemy import func, select

    _service_, _read_models, runner = _projections()
    head, positions = runner.head(), runner.positions()
    table = Table("view", "position", "head", "lag", "rows")
    with runner.engine.connect() as conn:
        for projection in runner.projections:
            rows = ", ".join(f"{t.name} {conn.execute(select(func.count()).select_from(t)).scalar_one()}"
                             for t in projection.tables)
            position = positions[projection.name]
            table.add_row(projection.name, str(position), str(head), str(head - position), rows)
    Console().print(table)


@projections.command("rebuild")
def projections_rebuild(name: Annotated[Optional[str], typer.Argument(help="The view; all when left out")] = None):
    """Rebuild views from the first event; the API keeps answering from the old rows until it commits."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    _service_, _read_models, runner = _projections()
    chosen = [p for p in runner.projections if name in (None, p.name)]
    if not chosen:
        console.print(f"[red]No view named {name!r}; views: {', '.join(p.name for p in runner.projections)}[/red]")
        raise typer.Exit(2)
    head = runner.head()
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        for projection in chosen:
            task = progress.add_task(f"Rebuilding {projection.name}", total=head)
            runner.rebuild(projection, progress=lambda n, t=task: progress.advance(t, n))
            progress.update(task, completed=head)
    console.print(f"Rebuilt {', '.join(p.name for p in chosen)} up to event {head}.")


@users.command("add")
def users_add(username: str,
              role: Annotated[list[str], typer.Option("--role", "-r", help=f"One of: {', '.join(ROLES)}")],
              party: Annotated[Optional[str], typer.Option(help=f"Party code for --role party: "
                                                                f"{', '.join(PARTIES)}")] = None,
              email: Annotated[Optional[str], typer.Option(help="Where reminders are e-mailed")] = None,
              password: Annotated[Optional[str], typer.Option(help="Asked for when not given", hidden=True,
                                                              envvar="SECRETARIAT_NEW_PASSWORD")] = None):
    """Add a user with one or more roles."""
    password = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        console.print("[red]A password needs at least 10 characters.[/red]")
        raise typer.Exit(2)
    _run(lambda s: s.register_user(username, password, role, party=party, email=email, actor=_cli_actor()),
         f"Added {username} ({', '.join(role)}).")


@users.command("grant")
def users_grant(username: str, role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}")],
                party: Annotated[Optional[str], typer.Option(help="Party code, for the party role")] = None):
    """Grant a role to a user."""
    _run(lambda s: s.grant_role(username, role, party=party, actor=_cli_actor()), f"Granted {role} to {username}.")


@users.command("revoke")
def users_revoke(username: str, role: str):
    """Revoke a role from a user (takes effect on their next request)."""
    _run(lambda s: s.revoke_role(username, role, actor=_cli_actor()), f"Revoked {role} from {username}.")


@users.command("show")
def users_show(username: str):
    """Show a user's roles and Party."""
    user = _run(lambda s: s.user(username))
    table = Table("username", "roles", "party", "email", "version")
    table.add_row(user.username, ", ".join(user.roles), user.party or "", user.email or "", str(user.version))
    Console().print(table)


def _run(command, done: str = ""):
    try:
        result = command(_service())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    if done:
        console.print(done)
    return result


def main() -> None:
    app()
