"""The annolab command, run in-process against the test server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import annolab as al
from annolab.cli import app
from annolab.store import migrate
from tests.ollama_server import ollama_server

runner = CliRunner()


def test_doctor_reports_every_part(db_url: str) -> None:
    result = runner.invoke(app, ["doctor", "--url", db_url, "--ollama-host", "http://127.0.0.1:1"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines()[:7])
    assert lines["postgres"].split(".")[0].isdigit()
    assert lines["pgvector"].startswith("0.")
    assert lines["schema"] == migrate.head_revision()
    assert "preview.js" in lines["widgets"]
    assert lines["ollama"].startswith("not reachable at http://127.0.0.1:1")
    assert "all required parts are present" in result.output


def test_doctor_fails_when_a_required_model_is_unreachable(db_url: str) -> None:
    result = runner.invoke(
        app,
        ["doctor", "--url", db_url, "--ollama-host", "http://127.0.0.1:1", "--model", "llama3.2"],
    )
    assert result.exit_code == 1
    assert (
        "problem: Ollama is not reachable at http://127.0.0.1:1: start it with `ollama serve`"
        in result.output
    )


def test_doctor_lists_models_and_names_the_pull_to_run(db_url: str) -> None:
    with ollama_server(["llama3.2:latest", "all-minilm:latest"]) as host:
        ok = runner.invoke(
            app, ["doctor", "--url", db_url, "--ollama-host", host, "--model", "llama3.2"]
        )
        missing = runner.invoke(
            app, ["doctor", "--url", db_url, "--ollama-host", host, "--model", "qwen3:4b"]
        )
    assert ok.exit_code == 0, ok.output
    assert f"ollama      {host}, models: all-minilm:latest, llama3.2:latest" in ok.output
    assert missing.exit_code == 1
    assert "the Ollama model 'qwen3:4b' is not pulled: run `ollama pull qwen3:4b`" in missing.output


def test_doctor_fails_on_a_wrong_database_url() -> None:
    result = runner.invoke(app, ["doctor", "--url", "postgresql://x@127.0.0.1:1/db"])
    assert result.exit_code == 1
    assert "postgres    MISSING" in result.output
    assert "problem: could not connect to 'postgresql://x@127.0.0.1:1/db'" in result.output


def test_import_tasks_and_annotations_then_export(
    workspace: al.Workspace, project: al.Project, db_url: str, tmp_path: Path
) -> None:
    tasks = tmp_path / "tasks.csv"
    pl.DataFrame({"doc": ["d1", "d2"], "body": ["Ada in Paris", "Grace"]}).write_csv(tasks)
    added = runner.invoke(
        app,
        [
            "import",
            project.name,
            str(tasks),
            "--tasks",
            "--text",
            "body",
            "--id",
            "doc",
            "--url",
            db_url,
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.strip() == f"2 new tasks, 0 already in {project.name!r}"

    annotations = tmp_path / "in.jsonl"
    annotations.write_text(
        json.dumps(
            {
                "task": "d1",
                "user": "ada",
                "payload": {
                    "kind": "spans",
                    "spans": [{"start": 7, "end": 12, "label": "location"}],
                },
            }
        )
        + "\n"
        + json.dumps(
            {
                "task": "d2",
                "payload": {"kind": "spans", "spans": [{"start": 0, "end": 50, "label": "person"}]},
            }
        )
        + "\n"
    )
    imported = runner.invoke(app, ["import", project.name, str(annotations), "--url", db_url])
    assert imported.exit_code == 1  # one row was refused: the exit code says so
    assert "stored 1, unchanged 0, refused 1" in imported.output
    assert "line 2: spans[0].end=50 is past the end of the text" in imported.output

    out = tmp_path / "out.parquet"
    exported = runner.invoke(app, ["export", project.name, str(out), "--url", db_url])
    assert exported.exit_code == 0, exported.output
    assert exported.output.strip() == f"wrote 1 records to {out}"
    assert pl.read_parquet(out)["text"].to_list() == ["Ada in Paris"]


def test_export_to_an_unknown_project_fails_clearly(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "no-such-project", str(tmp_path / "x.jsonl"), "--url", db_url]
    )
    assert result.exit_code == 1
    assert "name='no-such-project' is not a project" in result.output


@pytest.mark.slow
def test_lab_opens_jupyterlab_on_the_tutorials(db_url: str) -> None:
    """The main job: `annolab lab` readies the database and serves the tutorial notebooks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "ANNOLAB_DATABASE_URL"}
    env["ANNOLAB_DATABASE_URL"] = db_url
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annolab.cli",
            "lab",
            "--port",
            str(port),
            "--no-browser",  # no --allow-root: as root (CI, containers) annolab adds it
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=t0k",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        listing = None
        deadline = time.monotonic() + 90
        while listing is None and time.monotonic() < deadline and lab.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/contents?token=t0k", timeout=5
                ) as response:
                    listing = json.load(response)
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer"
        names = {item["name"] for item in listing["content"]}
        assert "01_getting_started.ipynb" in names
    finally:
        lab.terminate()
        output = lab.communicate(timeout=30)[0]
    assert "database ready: <Workspace" in output
