"""The `secretariat` command: serve, demo, schedule, users, projections, deliveries, calendar, report, import (and
audit)."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from domain.actor import PARTIES, ROLES, Actor
from domain.errors import DomainError
from secretariat.cli_audit import audit
from secretariat.cli_common import cli_actor, console, load_settings, open_projections, open_service, run_on_service

app = typer.Typer(help="Secretariat: event-sourced workflows for a convention secretariat.",
                  no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
users = typer.Typer(help="Manage users and their roles (every change is an audited event).", no_args_is_help=True)
app.add_typer(users, name="users")
projections = typer.Typer(help="Inspect and rebuild the read models.", no_args_is_help=True)
app.add_typer(projections, name="projections")
calendar_app = typer.Typer(help="The business calendar: show it, close and reopen days (every change is an audited "
                                "event).", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(audit, name="audit")


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes (stateless; share the store)", min=1)] = 1):
    """Run the HTTP API over the configured store, with the read models' follower and the reminder scheduler
    in a process of their own."""
    import uvicorn

    from secretariat.follower_process import follower_beside_workers

    settings = load_settings()
    settings.token_key()  # make (or check) the key file once, before any worker starts
    # Likewise create the read models, or rebuild one whose definition changed, before any worker starts.
    service, _read_models, runner = open_projections()
    runner.engine.dispose()
    service.close()
    console.print(f"Secretariat on http://{host}:{port}  (store: {settings.database_url}; API docs at /docs)")
    # Forwarded headers (scheme, client) count only from the proxies the settings trust; from anyone else
    # they are ignored, so the session cookie is Secure exactly when a trusted TLS proxy says https.
    proxies = [str(network) for network in settings.trusted_proxy_networks]
    # The read models' follower and the reminder scheduler run once, in a process of their own beside the
    # workers (whatever their number): a worker only serves, and never waits for the follower's GIL.
    with follower_beside_workers():
        uvicorn.run("secretariat.server:serving_api", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, proxy_headers=bool(proxies),
                    forwarded_allow_ips=proxies or None)


@app.command()
def demo():
    """Create the demo users and the demo data drawn from the founding texts (safe to run twice)."""
    from secretariat.demo import seed

    created = seed(open_service(), console=console)
    console.print(f"Demo ready: {created} new records. Users sign in with password = username: "
                  "admin, sara, hana, erik, alba, milan, audrey.")


@app.command()
def project():
    """Keep the read models up to date, alone (for scale-out: any number may run at once)."""
    import signal
    import threading

    _service_, _read_models, runner = open_projections()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"Following the log for: {', '.join(p.name for p in runner.projections)} (Ctrl-C stops)")
    runner.follow(stop)


@app.command()
def schedule(tick: Annotated[Optional[float], typer.Option(help="Seconds between ticks [default: "
                                                           "SECRETARIAT_SCHEDULER_TICK_SECONDS]", min=0.05)] = None,
             once: Annotated[bool, typer.Option("--once", help="Run one tick, print what it raised, and stop")] = False):
    """Raise and deliver due reminders, alone (for scale-out: any number may run at once, each reminder is raised once)."""
    import logging
    import signal
    import threading

    from secretariat.bootstrap import build_scheduler

    settings = load_settings()
    service, read_models, runner = open_projections()
    reminders = build_scheduler(settings, service, read_models, runner)
    if once:
        raised = reminders.tick()
        table = Table("item", "deadline", "due", "rung", "to")
        for r in raised:
            table.add_row(f"{r['collection']}/{r['item_id']}", r["deadline"], str(r["due"]), r["rung"],
                          ", ".join(r["addressed_to"]))
        Console().print(table)
        console.print(f"{len(raised)} reminder(s) raised")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    seconds = tick or settings.scheduler_tick_seconds
    console.print(f"Scheduler ticking every {seconds:g} s on {settings.database_url} (Ctrl-C stops)")
    jobs = reminders.start(seconds)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    jobs.shutdown(wait=True)


@projections.command("status")
def projections_status():
    """Each view's position, lag behind the log, and rows."""
    from sqlalchemy import func, select

    _service_, _read_models, runner = open_projections()
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

    _service_, _read_models, runner = open_projections()
    # All: every view that may be rebuilt (not the deliveries outbox: a rebuild would send everything again).
    chosen = [p for p in runner.projections if name == p.name or (name is None and getattr(p, "rebuildable", True))]
    if name and chosen and not getattr(chosen[0], "rebuildable", True):
        console.print(f"[red]{name} is never rebuilt: its rows record what was sent[/red]")
        raise typer.Exit(2)
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
    run_on_service(lambda s: s.register_user(username, password, role, party=party, email=email, actor=cli_actor()),
         f"Added {username} ({', '.join(role)}).")


@users.command("grant")
def users_grant(username: str, role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}")],
                party: Annotated[Optional[str], typer.Option(help="Party code, for the party role")] = None):
    """Grant a role to a user."""
    run_on_service(lambda s: s.grant_role(username, role, party=party, actor=cli_actor()), f"Granted {role} to {username}.")


@users.command("revoke")
def users_revoke(username: str, role: str):
    """Revoke a role from a user (takes effect on their next request)."""
    run_on_service(lambda s: s.revoke_role(username, role, actor=cli_actor()), f"Revoked {role} from {username}.")


@users.command("show")
def users_show(username: str):
    """Show a user's roles and Party."""
    user = run_on_service(lambda s: s.user(username))
    table = Table("username", "roles", "party", "email", "version")
    table.add_row(user.username, ", ".join(user.roles), user.party or "", user.email_shown or "", str(user.version))
    Console().print(table)


@users.command("set-email")
def users_set_email(username: str, email: Annotated[str, typer.Argument(help="Where reminders are e-mailed; "
                                                                        "'-' for nowhere")]):
    """Set the address a user's reminders are e-mailed to."""
    address = None if email == "-" else email
    run_on_service(lambda s: s.change_email(username, address, actor=cli_actor()),
         f"{username}'s reminders go to {address}." if address else f"{username}'s reminders are not e-mailed.")


@users.command("erase")
def users_erase(username: str,
                reason: Annotated[str, typer.Option(help="Why (e.g. the data subject's request and its date)")]):
    """Erase a user's personal data (their e-mail address): delete their keys, record it, scrub copies.

    The events stay (the audit chain still verifies); their personal data reads [erased] from now on,
    in every process. Events stored before personal data was encrypted are reported, not rewritten.
    """
    from personal_data.erasure import erase_person
    from projections.database import engine_for
    from secretariat.settings import event_store_env

    engine = engine_for(event_store_env(load_settings().database_url), writer=True)
    report = run_on_service(lambda s: erase_person(s, engine, username, reason, actor=cli_actor()))
    for line in report.lines():
        console.print(line)
    if report.events_in_clear:
        raise typer.Exit(3)  # done as far as it can be, but not complete: a script must notice


@app.command()
def backup(target: Annotated[Path, typer.Argument(help="A new file to write (never overwritten)")]):
    """Copy the whole store (events, views, personal-data keys) consistently to a new owner-only (0600) file."""
    from personal_data.backup import BackupFailed, back_up
    from secretariat.settings import event_store_env

    try:
        console.print(back_up(event_store_env(load_settings().database_url), target))
    except BackupFailed as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


# The command line reads and retries every delivery, as the store's operator: whoever runs it holds the
# store's URL (and the channels' settings, and reads the support requests with `secretariat audit`), so
# scoping it to the admin role would hide nothing from them and only leave them without the tool.
deliveries_app = typer.Typer(help="Reminders sent by e-mail and webhook: see and retry them (all of them: the "
                                  "command line is the store's operator).", no_args_is_help=True)
app.add_typer(deliveries_app, name="deliveries")


@deliveries_app.command("list")
def deliveries_list(status: Annotated[Optional[str], typer.Option(help="pending, retrying, delivered, failed, "
                                                                       "no_recipients or expired")] = None,
                    channel: Annotated[Optional[str], typer.Option(help="email or webhook")] = None,
                    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50):
    """List deliveries, newest first ('pending' for long: no worker has its channel configured)."""
    from scheduler.outbox import OPERATOR, Outbox

    _service_, _read_models, runner = open_projections()
    rows, total = Outbox(runner.engine, reader=runner.reader).list_deliveries(OPERATOR, status=status,
                                                                               channel=channel, limit=limit)
    table = Table("id", "channel", "status", "tries", "reminder", "next try", "last error")
    for d in rows:
        r = d["reminder"]
        table.add_row(d["id"], d["channel"], d["status"], str(d["attempts"]),
                      f"{r['rung']}: {r['title']} ({r['deadline']} {r['due']})",
                      f"{d['next_attempt_at']:%Y-%m-%d %H:%M:%S}" if d["status"] in ("pending", "retrying") else "",
                      d["last_error"] or "")
    Console().print(table)
    console.print(f"{len(rows)} of {total}")


@deliveries_app.command("retry")
def deliveries_retry(delivery_id: str):
    """Put a failed, recipient-less or expired delivery back in the queue, with a fresh round of tries."""
    from scheduler.outbox import OPERATOR, Outbox

    service, _read_models, runner = open_projections()
    try:
        Outbox(runner.engine).retry(delivery_id, OPERATOR, now=service.clock(), by=cli_actor().username)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Delivery {delivery_id} is queued again.")


@calendar_app.command("show")
def calendar_show(year: Annotated[Optional[int], typer.Option(help="Default: this year", min=1, max=9999)] = None):
    """List a year's weekdays off (public holidays, closures) and count its working days."""
    service = open_service()
    calendar, closures = service.business_calendar(), {c.day: c for c in service.closures()}
    year = year or service.today().year
    holiday_name = getattr(calendar.holidays, "get", lambda _day: "")  # the holidays package names its days
    table, working = Table("day", "weekday", "off for"), 0
    for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        day = date.fromordinal(ordinal)
        if day.weekday() >= 5:
            continue
        if calendar.is_working_day(day):
            working += 1
        elif day in closures:
            table.add_row(day.isoformat(), f"{day:%A}", f"closure: {closures[day].reason} "
                                                        f"(by {closures[day].closed_by})")
        else:
            table.add_row(day.isoformat(), f"{day:%A}", f"public holiday: {holiday_name(day) or ''}")
    Console().print(table)
    console.print(f"{year}: {working} working days (public holidays of {load_settings().holiday_country})")


CalendarDay = Annotated[datetime, typer.Argument(formats=["%Y-%m-%d"], metavar="DAY", help="YYYY-MM-DD")]


@calendar_app.command("close")
def calendar_close(day: CalendarDay,
                   reason: Annotated[str, typer.Option(help="Why the Secretariat is closed (recorded)")]):
    """Close a working day: decision deadlines derived from now on skip it."""
    run_on_service(lambda s: s.close_day(day.date(), reason, actor=cli_actor()), f"Closed {day:%A %Y-%m-%d}.")


@calendar_app.command("reopen")
def calendar_reopen(day: CalendarDay,
                    reason: Annotated[str, typer.Option(help="Why the day is open after all (recorded)")]):
    """Reopen a closed day: deadlines derived from now on count it again."""
    run_on_service(lambda s: s.reopen_day(day.date(), reason, actor=cli_actor()), f"Reopened {day:%A %Y-%m-%d}.")


@app.command()
def report(meeting_id: Annotated[str, typer.Argument(help="The meeting's id")],
           format: Annotated[str, typer.Option("--format", help="md, docx or html (or json: the report as data)")] = "md",
           output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write it to this file "
                                                           "[default: standard output; a .docx needs a file]")] = None):
    """The Secretariat's progress report for a meeting, as of its first day (read as an auditor reads)."""
    from report.content import progress_report
    from report.formats import FORMATS, rendered

    if format not in FORMATS:
        console.print(f"[red]--format must be one of: {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    if format == "docx" and output is None:
        console.print("[red]a Word document is not text: give --output FILE[/red]")
        raise typer.Exit(2)
    service = open_service()
    try:
        # The operator owns the store; they read the report as an auditor does: everything, changing nothing.
        document = rendered(progress_report(service, meeting_id, Actor.system(cli_actor().username, "auditor")),
                            format, service.tz)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        service.close()
    if output is None:
        sys.stdout.buffer.write(document.body)
    else:
        output.write_bytes(document.body)
        console.print(f"Wrote {output} ({len(document.body)} bytes).")


@app.command("import", epilog="Exit status: 0 if every line was imported (or already was), 1 if any line was "
                              "refused (the items it names are then left out, whole), 2 if the file cannot be read.")
def import_history(file: Annotated[Path, typer.Argument(help="The history: JSON Lines (one event a line), or CSV "
                                                         "(one row per item)", exists=True, dir_okay=False)],
                   collection: Annotated[Optional[str], typer.Option(help="CSV: the collection of every row, when "
                                                                     "the file has no collection column")] = None,
                   format: Annotated[Optional[str], typer.Option("--format", help="jsonl or csv (default: from the "
                                                                 "file's suffix)")] = None,
                   dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything, record nothing")] = False):
    """Import past records: each item whole or not at all, through the same checks as live commands; a re-run
    adds nothing twice. Prints what was imported, and each refused line with its number and why."""
    from importing import import_history_text
    from importing.cli_report import print_report, progress_bar

    kind = format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    if kind not in ("jsonl", "csv"):
        console.print("[red]--format must be jsonl or csv[/red]")
        raise typer.Exit(2)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        console.print(f"[red]cannot read {file}: {error}[/red]")
        raise typer.Exit(2) from None
    service = open_service()
    try:
        with progress_bar(console, text.count("\n") + 1) as advance:
            report = import_history_text(service, text, format=kind, collection=collection, dry_run=dry_run,
                                         progress=advance)
    except (DomainError, ValueError) as error:
        console.print(f"[red]{getattr(error, 'detail', error)}[/red]")
        raise typer.Exit(2) from None
    finally:
        service.close()
    print_report(Console(), report)
    raise typer.Exit(0 if report.ok else 1)


def main() -> None:
    app()
