"""Finding layouts and prompt templates: the user's own folder first, then annolab's.

In a wheel, ``layouts/`` and ``prompts/`` are packed inside the ``annolab`` package. In a source
checkout (an editable install) they stay at the top of the repository, one level above it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from annolab.errors import LayoutError
from annolab.paths import annolab_home

KINDS = ("layouts", "prompts")


def search_path(kind: str) -> list[Path]:
    """Folders searched for ``kind`` ("layouts" or "prompts"), first match wins."""
    if kind not in KINDS:
        msg = f"kind={kind!r} is not a resource kind; use one of {', '.join(KINDS)}"
        raise LayoutError(msg)
    packaged = Path(str(files("annolab") / kind))
    checkout = Path(__file__).resolve().parent.parent / kind
    return [p for p in (annolab_home() / kind, packaged, checkout) if p.is_dir()]


def find_resource(kind: str, filename: str) -> Path:
    """The first ``filename`` found on the search path of ``kind``.

    >>> find_resource("layouts", "ner.yaml").name
    'ner.yaml'
    """
    folders = search_path(kind)
    for folder in folders:
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(f) for f in folders) or "no folder"
    available = sorted({p.name for f in folders for p in f.iterdir() if p.is_file()})
    msg = (
        f"{kind[:-1]}={filename!r} was not found (searched {searched}); "
        f"available: {', '.join(available) or 'none'}"
    )
    raise LayoutError(msg)


def layout_exists(name: str) -> bool:
    """Whether ``layouts/<name>.yaml`` is on the search path."""
    return any((folder / f"{name}.yaml").is_file() for folder in search_path("layouts"))


def load_layout(name: str) -> dict[str, object]:
    """A layout from ``layouts/<name>.yaml`` as a dict."""
    import yaml

    path = find_resource("layouts", f"{name}.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        msg = f"layout={name!r} in {path} is not valid YAML: {exc}"
        raise LayoutError(msg) from exc
    if not isinstance(data, dict):
        msg = f"layout={name!r} in {path} must be a mapping, found {type(data).__name__}"
        raise LayoutError(msg)
    return data
