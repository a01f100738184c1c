"""The tutorials' saved outputs work without a network: offline hubs are common, and a chart
whose saved output loads Vega from a CDN shows only "Error loading script" there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
URL = re.compile(r"https?://[^\s\"'\\<>)]+")
# Vega-Lite specs name their JSON schema by URL; it is an identifier, never fetched.
IDENTIFIERS = re.compile(r"https://vega\.github\.io/schema/")


def remote_urls(outputs: object) -> list[str]:
    """The URLs in saved outputs that a browser would fetch."""
    return [u for u in URL.findall(json.dumps(outputs)) if not IDENTIFIERS.match(u)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_saved_outputs_fetch_nothing_from_the_network(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    outputs = [cell.get("outputs", []) for cell in notebook["cells"]]
    assert remote_urls(outputs) == []


def test_a_cdn_script_is_found_and_a_schema_identifier_is_not() -> None:
    saved = [{"text/html": 'paths: {"vega": "https://cdn.jsdelivr.net/npm/vega@6?noext"}'}]
    assert remote_urls(saved) == ["https://cdn.jsdelivr.net/npm/vega@6?noext"]
    spec = [{"text/html": '{"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json"}'}]
    assert remote_urls(spec) == []
