"""``moniqo docs``: the generated API documents."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

docs = typer.Typer(help="Generated API documents (AsyncAPI of the NATS commands and events).")


@docs.command("asyncapi")
def asyncapi(
    write: Annotated[
        bool,
        typer.Option("--write", help="write the committed copies (docs/asyncapi.json and the gateway's)"),
    ] = False,
) -> None:
    """Print the AsyncAPI document generated from the services' brokers (or --write it into the repo)."""
    from moniqo_cli.asyncapi_doc import REPO_ROOT, build_document, committed_copies, render

    text = render(asyncio.run(build_document()))
    if not write:
        typer.echo(text, nl=False)
        return
    if not (REPO_ROOT / "pyproject.toml").is_file():
        typer.echo(f"moniqo: --write needs the source tree (not found at {REPO_ROOT})", err=True)
        raise typer.Exit(2)
    for path in committed_copies():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        typer.echo(f"wrote {path.relative_to(REPO_ROOT)}", err=True)
