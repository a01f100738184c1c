"""The wheel: built from this checkout, installed in a fresh virtual environment, imported."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from annolab.store.migrate import head_revision
from tests.conftest import REPO

pytestmark = pytest.mark.slow

SHIPPED = [
    "annolab/py.typed",
    "annolab/static/preview.js",
    "annolab/static/preview.css",
    "annolab/static/ner.js",
    "annolab/static/classify.js",
    "annolab/static/bbox.js",
    "annolab/static/vega.js",
    "annolab/static/form.js",
    "annolab/static/pairwise.js",
    "annolab/static/rubric.js",
    "annolab/static/ranking.js",
    "annolab/static/errors.js",
    "annolab/static/correction.js",
    "annolab/layouts/ner.yaml",
    "annolab/layouts/classify.yaml",
    "annolab/layouts/bbox.yaml",
    "annolab/prompts/ner.j2",
    "annolab/prompts/persona.j2",
    "annolab/prompts/task.j2",
    "annolab/prompts/refine.j2",
    "annolab/prompts/twin.j2",
    "annolab/notebooks/01_getting_started.ipynb",
    "annolab/notebooks/05_persona_experiments.ipynb",
    "annolab/notebooks/06_layouts_and_review.ipynb",
    "annolab/notebooks/07_preferences_and_gold.ipynb",
    "annolab/testing/ollama.py",
    "annolab/store/migrations/env.py",
    "annolab/store/migrations/versions/0001_identity_projects_tasks_events.py",
]

# Run inside the new environment, from a folder outside the checkout, so nothing can be found
# in the source tree by accident.
CHECK = """
import json, annolab
from annolab.resources import find_resource
from annolab.store.migrate import head_revision
from annolab.widgets import Preview, _base
esm = _base.STATIC_DIR / "preview.js"
print(json.dumps({
    "module": annolab.__file__,
    "esm": str(esm) if esm.is_file() else "missing",
    "stand_in": _base.BUILD_COMMAND in str(Preview._esm),
    "layout": str(find_resource("layouts", "ner.yaml")),
    "prompt": str(find_resource("prompts", "ner.j2")),
    "head": head_revision(),
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (built,) = out.glob("annolab-*.whl")
    return built


def test_wheel_ships_bundles_layouts_prompts_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert missing == []
    assert not any(name.startswith(("widgets/", "tests/")) for name in names)


def test_wheel_installs_and_imports_in_a_fresh_environment(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    result = subprocess.run(
        [python, "-c", CHECK], cwd=tmp_path, check=True, capture_output=True, text=True, timeout=120
    )
    import json

    found = json.loads(result.stdout)
    site = str(env_dir)
    for key in ("module", "esm", "layout", "prompt"):
        assert found[key].startswith(site), (key, found[key])
    assert found["esm"].endswith("annolab/static/preview.js")
    assert found["stand_in"] is False
    assert found["layout"].endswith("annolab/layouts/ner.yaml")
    assert found["head"] == head_revision()
    help_text = subprocess.run(
        [env_dir / "bin" / "annolab", "--help"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "doctor" in help_text
