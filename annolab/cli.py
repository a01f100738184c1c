"""The ``annolab`` command: ``lab``, ``doctor``, ``import`` and ``export``."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from annolab.errors import AnnolabError
from annolab.paths import annolab_home

if TYPE_CHECKING:
    import polars as pl

app = typer.Typer(help="annolab: annotation in Jupyter, backed by Postgres.", no_args_is_help=True)

DEFAULT_OLLAMA = "http://127.0.0.1:11434"
UrlOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time, on Python 3.10 too
    typer.Option("--url", help="Postgres URL (default: ANNOLAB_DATABASE_URL, else embedded)"),
]


def main() -> None:
    """Entry point of the ``annolab`` console script."""
    app()


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def tutorial_folder() -> Path:
    """The tutorial notebooks: the checkout's own, or a copy of the packaged ones to edit."""
    checkout = Path(__file__).resolve().parent.parent / "notebooks"
    if checkout.is_dir():
        return checkout
    packaged = Path(str(files("annolab") / "notebooks"))
    target = annolab_home() / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    for notebook in packaged.glob("*.ipynb"):
        if not (target / notebook.name).exists():  # never overwrite the user's edits
            shutil.copy2(notebook, target / notebook.name)
    return target


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(
    ctx: typer.Context,
    folder: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--dir", help="Folder to open (default: the tutorial notebooks)"),
    ] = None,
    port: Annotated[int, typer.Option(help="Port for JupyterLab")] = 8888,
) -> None:
    """Start the embedded database and open JupyterLab on the tutorial notebooks.

    Options annolab does not know are passed to JupyterLab, e.g. ``annolab lab --no-browser``.
    """
    import annolab as al

    try:
        ws = al.connect()
    except AnnolabError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"database ready: {ws!r}")
    ws.close()
    where = folder or tutorial_folder()
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={where}",
        f"--ServerApp.port={port}",
        *ctx.args,
    ]
    if os.geteuid() == 0 and "--allow-root" not in ctx.args:
        # Containers and CI run as root, where JupyterLab refuses to start without this; the
        # choice to run as root was made before annolab was called.
        command.append("--allow-root")
    sys.stdout.flush()
    # Become JupyterLab, so Ctrl+C and signals reach it directly, as if it had been run itself.
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter, our own arguments


@app.command()
def doctor(
    url: UrlOption = None,
    ollama_host: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Ollama server (default: OLLAMA_HOST, else 127.0.0.1:11434)"),
    ] = None,
    model: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--model", help="An Ollama model that must be present (repeatable)"),
    ] = None,
) -> None:
    """Check Python, Postgres, pgvector, the widget bundle and Ollama; exit 1 if one is missing."""
    import annolab as al
    from annolab.store import migrate

    problems: list[str] = []
    typer.echo(f"python      {platform.python_version()} ({sys.executable})")
    typer.echo(f"annolab     {al.__version__}")
    try:
        ws = al.connect(url)
    except AnnolabError as exc:
        problems.append(str(exc))
        typer.echo("postgres    MISSING")
    else:
        where = "embedded, " + str(annolab_home()) if ws.embedded else "server"
        typer.echo(f"postgres    {ws.server_version} ({where})")
        typer.echo(f"pgvector    {ws.pgvector_version}")
        typer.echo(f"schema      {migrate.current_revision(ws.engine)}")
        ws.close()
    bundle = Path(str(files("annolab") / "static"))
    bundles = sorted(p.name for p in bundle.glob("*.js")) if bundle.is_dir() else []
    if bundles:
        typer.echo(f"widgets     {', '.join(bundles)}")
    else:
        typer.echo("widgets     MISSING")
        problems.append(
            f"the widget bundles are missing from {bundle}: reinstall annolab, or in a checkout "
            "run `npm --prefix widgets ci && npm --prefix widgets run build`"
        )
    problems += _check_ollama(
        ollama_host or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA, model or []
    )
    if problems:
        raise _fail("\n".join(f"problem: {p}" for p in problems))
    typer.secho("all required parts are present", fg=typer.colors.GREEN)


def _check_ollama(host: str, required: list[str]) -> list[str]:
    """Ollama is optional unless models are required; report what is there either way.

    Problems are worded as personas word them, so both name the same command to run.
    """
    from annolab.personas.llm import not_pulled_message, same_model, unreachable_message

    try:
        import ollama
    except ImportError:
        typer.echo('ollama      client not installed (pip install "annolab[llm]")')
        return ['the ollama client is missing: pip install "annolab[llm]"'] if required else []
    try:
        listed = ollama.Client(host=host, timeout=5).list()
    except Exception as exc:  # noqa: BLE001 - httpx, ollama and OS errors all mean unreachable
        typer.echo(f"ollama      not reachable at {host} ({type(exc).__name__})")
        return [unreachable_message(host)] if required else []
    present = sorted(m.model or "" for m in listed.models)
    typer.echo(f"ollama      {host}, models: {', '.join(present) or 'none'}")
    return [not_pulled_message(m) for m in required if not any(same_model(m, p) for p in present)]


@app.command("team-setup")
def team_setup(url: UrlOption = None) -> None:
    """On a team server, as the tables' owner: migrate, then create roles, grants and policies."""
    import annolab as al
    from annolab.store.roles import setup_team_roles

    try:
        with al.connect(url) as ws:
            setup_team_roles(ws.engine)
    except AnnolabError as exc:
        raise _fail(str(exc)) from exc
    typer.echo("roles annolab_annotator and annolab_lead, grants and row-level security are set")


@app.command("team-user")
def team_user(
    name: Annotated[str, typer.Argument(help="The hub user name (becomes the login role)")],
    lead: Annotated[bool, typer.Option("--lead", help="Lead: reads every annotation")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password for the role")
    ] = False,
    project: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option("--project", help="A project they work on (repeat for more)"),
    ] = None,
    url: UrlOption = None,
) -> None:
    """On a team server, as the tables' owner: a login role for one hub user."""
    import annolab as al
    from annolab.store.roles import add_member, create_login

    secret = (
        typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    )
    try:
        with al.connect(url) as ws:
            create_login(ws.engine, name, password=secret, lead=lead)
            with ws.engine.begin() as conn:
                for each in project or []:
                    add_member(conn, project=each, user=name)
    except AnnolabError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"login role {name!r} is in {'annolab_lead' if lead else 'annolab_annotator'}")
    if project:
        typer.echo(f"{name!r} works on {', '.join(repr(p) for p in project)}")


@app.command("import")
def import_(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    project: Annotated[str, typer.Argument(help="Project name")],
    path: Annotated[Path, typer.Argument(help="File (or folder) to import", exists=True)],
    tasks: Annotated[
        bool, typer.Option("--tasks", help="The file holds tasks, not annotations")
    ] = False,
    text: Annotated[str, typer.Option(help="With --tasks: the text column")] = "text",
    id: Annotated[Optional[str], typer.Option(help="With --tasks: the id column")] = None,  # noqa: UP045
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="conll, spacy, spacy-jsonl, coco, voc, label-studio or prodigy"),
    ] = None,
    into: Annotated[
        str, typer.Option(help="With --format: annotations, predictions or tasks")
    ] = "annotations",
    url: UrlOption = None,
) -> None:
    """Import annotations (JSON Lines), tasks (--tasks: csv, parquet or jsonl), or another
    tool's file (--format) as annotations, predictions or tasks (--into)."""
    import annolab as al

    try:
        with al.connect(url) as ws:
            proj = ws.project(project)
            if tasks:
                added = proj.add_tasks(_read_table(path), text=text, id=id)
                typer.echo(f"{added.new} new tasks, {added.existing} already in {project!r}")
                return
            if format is not None:
                found = proj.import_file(path, format=format, into=into)
            else:
                report = proj.import_annotations(path)
    except AnnolabError as exc:
        raise _fail(str(exc)) from exc
    if format is not None:
        typer.echo(repr(found))
        for where, reason in found.refused:
            typer.echo(f"{where}: {reason}", err=True)
        if found.refused:
            raise typer.Exit(1)
        return
    typer.echo(
        f"stored {report.stored}, unchanged {report.unchanged}, refused {len(report.errors)}"
    )
    for line, reason in report.errors:
        typer.echo(f"line {line}: {reason}", err=True)
    if report.errors:
        raise typer.Exit(1)


def _read_table(path: Path) -> pl.DataFrame:
    from annolab.io.frames import read_table  # a malformed file comes back as a DataError

    return read_table(path)


@app.command()
def export(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    project: Annotated[str, typer.Argument(help="Project name")],
    path: Annotated[Path, typer.Argument(help="File to write")],
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="jsonl, csv, parquet, conll, spacy, hf, coco, yolo, voc, ... "
            "(default: from the suffix)"
        ),
    ] = None,
    which: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="consensus, latest, all or gold (default: all for tables, else consensus)"
        ),
    ] = None,
    unannotated: Annotated[
        bool, typer.Option("--unannotated", help="Write tasks with no answer too")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Export a project's tasks and answers."""
    import annolab as al

    try:
        with al.connect(url) as ws:
            report = ws.project(project).export(
                path, format=format, which=which, unannotated=unannotated
            )
    except AnnolabError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"wrote {report.written} records to {path}")


if __name__ == "__main__":
    main()
