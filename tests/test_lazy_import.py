"""``import annolab`` stays light: the heavy parts load when a name that needs them is used.

Each check runs in a fresh interpreter, since this test process has imported everything. No
timings here (a loaded machine must not fail a test): ``benchmarks/first_cell.py`` times it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import annolab

HEAVY = [
    "altair",
    "polars",
    "pyarrow",
    "sqlalchemy",
    "psycopg",
    "anywidget",
    "ipywidgets",
    "pydantic",
    "numpy",
    "jupyter_server",
]


def loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running ``code``."""
    listed = f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    probe = f"{code}\nimport json, sys\n{listed}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_annolab_loads_none_of_the_heavy_parts() -> None:
    assert loaded_after("import annolab") == []


def test_errors_and_version_need_no_heavy_part() -> None:
    code = "import annolab\nannolab.AnnolabError, annolab.ValidationError, annolab.__version__"
    assert loaded_after(code) == []


def test_a_widget_loads_the_widget_stack_but_no_database_or_charts() -> None:
    loaded = loaded_after("import annolab\nannolab.BBox")
    assert "anywidget" in loaded
    assert not {"altair", "polars", "sqlalchemy", "psycopg", "jupyter_server"} & set(loaded)


def test_dashboards_load_altair_and_switch_its_renderer_on_first_use() -> None:
    code = (
        "import sys, annolab\n"
        "assert 'altair' not in sys.modules\n"
        "annolab.dashboards\n"
        "import altair\n"
        "print(altair.renderers.active)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "annolab"


def test_connect_is_the_workspace_function_once_used() -> None:
    from annolab.workspace import connect

    assert annolab.connect is connect
    assert "sqlalchemy" in loaded_after("import annolab\nannolab.connect")


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in annolab.__all__:
        assert getattr(annolab, name) is not None, name
    assert set(annolab.__all__) <= set(dir(annolab))
    assert "importlib" not in dir(annolab)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match=r"^module 'annolab' has no attribute 'no_such_th"):
        annolab.no_such_thing  # noqa: B018
