"""`airside-dev`: the embedded run and the AsyncAPI document, for a developer's machine and CI (not the images)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from airside_tools import asyncapi as document
from airside_tools import event_compat
from airside_tools import openapi as documents
from airside_tools.devrun import run as run_set

app = typer.Typer(help="Airside development commands.", no_args_is_help=True, add_completion=False)


@app.command()
def run() -> None:
    """Start NATS (unless one answers at AIRSIDE_NATS_URL) and the three services; Ctrl-C stops them."""
    raise typer.Exit(run_set())


@app.command()
def asyncapi(check: Annotated[bool, typer.Option(help="Fail if the committed document is stale")] = False) -> None:
    """Regenerate the committed AsyncAPI document from the payload models."""
    if check:
        if document.DOCUMENT_PATH.read_text() != document.render():
            typer.echo("asyncapi.json is stale: run `airside-dev asyncapi`", err=True)
            raise typer.Exit(1)
        return
    typer.echo(f"wrote {document.write()}")


@app.command("events-compat")
def events_compat(
    against: Annotated[Path, typer.Option(help="The published AsyncAPI document (`git show origin/main:shared/airside/asyncapi.json`)")],
) -> None:
    """Fail if the payload models break an event version of the published document (docs/events.md, Versioning)."""
    if problems := event_compat.breaking_changes(json.loads(against.read_text()), document.build_document()):
        for problem in problems:
            typer.echo(f"breaking: {problem}", err=True)
        typer.echo("ship the change as a new version beside the old one (docs/events.md, Versioning)", err=True)
        raise typer.Exit(1)


@app.command()
def openapi(check: Annotated[bool, typer.Option(help="Fail if a committed document is stale")] = False) -> None:
    """Regenerate the committed OpenAPI documents, one per service (docs/openapi/<service>.json)."""
    if check:
        if stale_ones := documents.stale():
            typer.echo(f"stale: {', '.join(stale_ones)}: run `airside-dev openapi`", err=True)
            raise typer.Exit(1)
        return
    for path in documents.write():
        typer.echo(f"wrote {path}")


def main() -> None:
    app()
