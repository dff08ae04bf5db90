"""What the `secretariat` command's parts share: the settings, the service, the console, errors as exit codes."""

from __future__ import annotations

import getpass

import typer
from pydantic import ValidationError
from rich.console import Console

from attachments.settings import AttachmentSettings
from domain.actor import Actor
from domain.errors import DomainError
from secretariat.settings import Settings

console = Console(stderr=True)


def load_settings() -> Settings:
    try:
        settings = Settings()
        AttachmentSettings()  # the attachments' own settings: a bad value stops the command here too
        return settings
    except ValidationError as error:
        for e in error.errors():
            console.print(f"[red]SECRETARIAT_{str(e['loc'][0]).upper()}[/red]: {e['msg']}")
        raise typer.Exit(2) from None


def open_service():
    from secretariat.bootstrap import build_application

    return build_application(load_settings())


def open_projections():
    from secretariat.bootstrap import build_application, build_projections
    from secretariat.settings import event_store_env

    settings = load_settings()
    service = build_application(settings)
    read_models, runner = build_projections(service, event_store_env(settings.database_url))
    return service, read_models, runner


def cli_actor() -> Actor:
    """Whoever can run this command administers the store; their changes are recorded under their OS name."""
    return Actor.system(f"cli:{getpass.getuser()}", "admin")


def run_on_service(command, done: str = ""):
    try:
        result = command(open_service())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    if done:
        console.print(done)
    return result
