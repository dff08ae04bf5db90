"""`secretariat audit`: replay an item's history, verify the hash chain, sign checkpoints, export and verify bundles.

Each command parses its arguments, calls audit/ (which does the work) and prints what it found."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from domain.actor import Actor
from secretariat.cli_common import console, load_settings, open_projections, open_service

audit = typer.Typer(help="The audit trail: replay an item's history, verify the hash chain, sign checkpoints, "
                    "export and verify bundles.", no_args_is_help=True)


@audit.command("replay")
def audit_replay(item_id: Annotated[str, typer.Argument(metavar="ID", help="The id of a mandate, task or support "
                                                                           "request")]):
    """Print an item's history as a timeline: version, time (SECRETARIAT_TIMEZONE), actor, event, state before ->
    after, reason and data."""
    from audit.replay import find_history, print_timeline

    service = open_service()
    found = find_history(service, item_id, Actor.system(f"cli:{getpass.getuser()}", "auditor"))
    if found is None:
        console.print(f"[red]No mandate, task or support request with id {escape(item_id)}.[/red]", soft_wrap=True)
        raise typer.Exit(2)
    print_timeline(Console(soft_wrap=True), found[0], item_id, found[1], service.tz)


@audit.command("verify")
def audit_verify(seal: Annotated[bool, typer.Option("--seal", help="First seal the events recorded since the last "
                                                   "seal (what `serve` does continuously)")] = False):
    """Recompute the hash chain from the stored events and compare it with the seal; exit code 1 when broken."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    import json

    from audit.store import verify_store

    service, runner, engine = _sealed_store(seal)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("Verifying the audit chain", total=runner.head())
        result = verify_store(service, engine, progress=lambda n: progress.advance(task, n))
    typer.echo(json.dumps(result))  # for scripts; the sentence below goes to stderr
    if result["ok"]:
        console.print(f"The audit chain holds: {result['events']} events, head {result['head']}.")
        return
    console.print(f"[red]The audit chain is broken at position {result['broken_at']}: {escape(result['reason'])} "
                  f"({result['events']} events verified before it).[/red]")
    raise typer.Exit(1)


# -- audit checkpoints and export bundles (audit/signing.py, export.py, bundle_check.py) --

CHECKPOINT_FOLDER = "audit-checkpoints"


def _audit_key(create: bool = True):
    """The audit signing key beside the data (made on first use); exit 2 when unsafe or missing."""
    from audit.signing import AUDIT_KEY_FILE, KeyProblem, load_key, load_or_create_key, public_pem

    path = load_settings().key_folder() / AUDIT_KEY_FILE
    try:
        key, made = load_or_create_key(path) if create else (load_key(path), False)
    except KeyProblem as error:
        console.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if made:
        console.print(f"Made the audit signing key {path} (owner-only); its public key:\n{public_pem(key)}",
                      soft_wrap=True)
    return key


def _sealed_store(seal: bool):
    """The application and an engine on its store, the audit chain first caught up with `seal`."""
    service, _read_models, runner = open_projections()
    if seal:
        runner.catch_up(next(p for p in runner.projections if p.name == "audit_chain"))
    return service, runner, runner.reader or runner.engine


def _trusted_key(path):
    from audit.signing import KeyProblem, read_public_key

    try:
        return read_public_key(path.read_bytes())
    except KeyProblem as error:
        console.print(f"[red]{escape(str(path))}: {escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


SealOption = Annotated[bool, typer.Option("--seal", help="First seal the events recorded since the last seal "
                                          "(what `serve` does continuously)")]
PublicKeyOption = Annotated[Optional[Path], typer.Option("--public-key", exists=True, dir_okay=False,
                                                         help="The public key you trust (PEM, or base64 of its 32 "
                                                              "raw bytes)")]


@audit.command("public-key")
def audit_public_key(raw: Annotated[bool, typer.Option("--raw", help="The base64 of the 32 raw bytes instead of "
                                                       "PEM")] = False):
    """Print the public key of the audit signing key (made on first use, owner-only, beside the data)."""
    from audit.signing import public_pem, public_raw

    key = _audit_key()
    typer.echo(public_raw(key) if raw else public_pem(key).rstrip("\n"))


@audit.command("checkpoint")
def audit_checkpoint(seal: SealOption = False,
                     output: Annotated[Optional[Path], typer.Option("--output", "-o", dir_okay=False,
                                                                    help="Where to write it [default: "
                                                                         f"{CHECKPOINT_FOLDER}/ beside the data]")]
                     = None):
    """Sign the audit chain's current head (position, hash, length, time) with the audit key, and keep it as a
    JSON file to hand over; `audit verify-checkpoint FILE` proves it later against the store."""
    import json

    from audit.signing import public_pem, sign_checkpoint
    from audit.store import sealed_head

    key = _audit_key()
    _service_, _runner, engine = _sealed_store(seal)
    head = sealed_head(engine)
    if head is None:
        console.print("[red]Nothing is sealed yet: run with --seal (or start `secretariat serve`) first.[/red]")
        raise typer.Exit(1)
    checkpoint = sign_checkpoint(key, head.position, head.hash, head.length)
    if output is None:
        stamp = checkpoint["time"][:19].replace(":", "").replace("-", "")
        output = load_settings().key_folder() / CHECKPOINT_FOLDER / f"checkpoint-{head.length}-{stamp}Z.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(checkpoint, indent=2) + "\n")
    typer.echo(json.dumps(checkpoint))
    console.print(f"Checkpoint {output}: entry {head.length} at position {head.position}, head {head.hash}, "
                  f"signed by:\n{public_pem(key)}", soft_wrap=True)


@audit.command("verify-checkpoint")
def audit_verify_checkpoint(checkpoint_file: Annotated[Path, typer.Argument(metavar="FILE", exists=True,
                                                                            dir_okay=False,
                                                                            help="A checkpoint JSON file")],
                            public_key: PublicKeyOption = None, seal: SealOption = False):
    """Prove a checkpoint against the store: its signature verifies (with the audit key beside the data, or
    --public-key), the sealed entry at its position has its hash and number, and the whole chain still
    recomputes from the stored events. Exit code 1 when refused."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from audit.signing import checkpoint_problem
    from audit.store import checkpoint_in_store, verify_store

    trusted = _trusted_key(public_key) if public_key else _audit_key(create=False).public_key()
    try:
        checkpoint = json.loads(checkpoint_file.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        checkpoint, problem = None, f"not JSON: {error}"
    else:
        problem = checkpoint_problem(checkpoint, trusted)
    service, runner, engine = _sealed_store(seal)
    problem = problem or checkpoint_in_store(checkpoint, engine)
    chain = None
    if problem is None:
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("Verifying the audit chain", total=runner.head())
            chain = verify_store(service, engine, progress=lambda n: progress.advance(task, n))
        if not chain["ok"]:
            problem = f"the audit chain is broken at position {chain['broken_at']}: {chain['reason']}"
    typer.echo(json.dumps({"ok": problem is None, "problem": problem, "chain": chain}))
    if problem:
        console.print(f"[red]Checkpoint refused: {escape(problem)}[/red]", soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"The store holds the checkpoint: entry {checkpoint['length']} at position "
                  f"{checkpoint['position']} is {checkpoint['hash']}, and the chain holds ({chain['events']} events).",
                  soft_wrap=True)


@audit.command("export")
def audit_export(file: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False, help="The bundle to write "
                                                      "(a zip; refused if it exists)")],
                 item: Annotated[Optional[str], typer.Option(help="Only this item's (or user's) events: its id")]
                 = None,
                 since: Annotated[Optional[str], typer.Option(help="Only events at or after this ISO 8601 instant "
                                                              "(UTC without an offset)")] = None,
                 until: Annotated[Optional[str], typer.Option(help="Only events before this ISO 8601 instant")]
                 = None,
                 seal: SealOption = False):
    """Write a self-contained, signed bundle of the audit chain up to its head (events.jsonl, chain.jsonl,
    checkpoint.json, public_key.pem, README.md), to check with `audit verify-export` without the database."""
    import json
    import time
    from uuid import UUID

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from audit.bundle_format import parse_time
    from audit.export import ExportRefused, write_bundle
    from audit.store import sealed_head

    if file.exists():
        console.print(f"[red]{escape(str(file))} exists; give a new file.[/red]")
        raise typer.Exit(2)
    try:
        item = str(UUID(item)) if item is not None else None
    except ValueError:
        console.print(f"[red]--item: {escape(item)} is not an id (a UUID).[/red]")
        raise typer.Exit(2) from None
    bounds = {name: parse_time(value) for name, value in (("since", since), ("until", until)) if value is not None}
    if None in bounds.values():
        console.print("[red]--since and --until take an ISO 8601 instant, e.g. 2026-11-23T09:00:00+01:00.[/red]")
        raise typer.Exit(2)
    key = _audit_key()
    service, _runner, engine = _sealed_store(seal)
    head, started = sealed_head(engine), time.perf_counter()
    try:
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("Exporting the audit chain", total=head.length if head else 0)
            checkpoint = write_bundle(service, engine, file, key, item=item, since=bounds.get("since"),
                                      until=bounds.get("until"), progress=lambda n: progress.advance(task, n))
    except ExportRefused as error:
        console.print(f"[red]No bundle written: {escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(checkpoint))
    console.print(f"Wrote {file} ({file.stat().st_size:,} bytes) in {time.perf_counter() - started:.1f} s: "
                  f"{checkpoint['export']['events']} events up to entry {checkpoint['length']} at position "
                  f"{checkpoint['position']}, head {checkpoint['hash']}.", soft_wrap=True)


def _bundle_size(file: Path) -> int | None:
    """The number of events a bundle's checkpoint signs, for the progress bar (None when unreadable)."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(file) as bundle:
            return int(json.loads(bundle.read("checkpoint.json"))["export"]["events"])
    except Exception:  # the check itself reports what is wrong
        return None


@audit.command("verify-export")
def audit_verify_export(file: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False,
                                                             help="A bundle written by `audit export`")],
                        public_key: PublicKeyOption = None):
    """Check an export bundle from the bundle alone (no settings, no database): every entry recomputed and
    linked, the checkpoint's signature and both files' digests. Without --public-key the bundled key is trusted
    on first use. Exit code 0 when it holds, 1 when refused (the first problem is printed)."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from audit.bundle_check import verify_bundle

    trusted = _trusted_key(public_key) if public_key else None
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("Verifying the bundle", total=_bundle_size(file))
        result = verify_bundle(file, trusted, progress=lambda n: progress.advance(task, n))
    typer.echo(json.dumps(result))
    if not result["ok"]:
        console.print(f"[red]Refused at {escape(result['at'])}: {escape(result['problem'])}[/red]", soft_wrap=True)
        raise typer.Exit(1)
    kind = "a full export" if result["full"] else "a subset"
    console.print(f"The bundle holds ({kind}): {result['events']} events, head {result['head']} (entry "
                  f"{result['length']} at position {result['position']}, signed {result['time']}) by the "
                  f"{result['key']} key {result['public_key']}.", soft_wrap=True)


