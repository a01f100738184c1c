"""annolab's Altair renderer: charts that draw with no network, wherever HTML runs.

Altair 6 emits Vega-Lite 6, which JupyterLab's built-in Vega renderer does not take, so Altair's
own renderer falls back to HTML that loads Vega from a CDN, and on an offline hub every chart is
"Error loading script". This renderer puts annolab's build of Vega, Vega-Lite and vega-embed
(``annolab/static/vega.js``, bundled from ``widgets/src/vega/``) inside each chart's HTML, so the
same output draws in JupyterLab, Notebook 7 and HTML exported with nbconvert (each proved with
the network cut in tests/browser/test_dashboards_offline.py).

The bundle goes in gzip-compressed and base64-encoded: about 410 KB instead of 900 KB. Every
chart must carry it (an output is saved, exported and re-opened on its own), and Jupyter's
server drops output past 3 MB in 3 s (iopub_data_rate_limit): a Run All over four plain-bundle
charts would lose some, packed it takes eight. The first chart on a page unpacks it
(DecompressionStream, then an ES module import) and every later chart reuses that copy.

The loader is a classic script, not a module: only a classic script gets
``document.currentScript``, which finds the chart's own element even when the same output is
shown twice (Lab's "Create New View for Output").

``annolab.dashboards`` enables it on import unless another renderer was chosen;
``alt.renderers.enable("default")`` goes back to Altair's own.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

NAME = "annolab"
BUNDLE = Path(__file__).resolve().parent.parent / "static" / "vega.js"
BUILD_COMMAND = "npm --prefix widgets ci && npm --prefix widgets run build"

# The first line widgets/build.mjs writes: /*! annolab-vega vega@6.4.0 vega-lite@6.4.1 ... */
_BANNER = re.compile(rb"/\*! annolab-vega (?P<versions>[^*]+?) \*/")

# The style is Altair's own (one chart a row; the actions menu placed by its button).
# {{ spec }} and {{ embed_options }} arrive as JSON text. "<" becomes \u003c, which means the
# same inside a JavaScript string, so no value (a label "</script>") can close the script early.
_TEMPLATE = """\
<style>
  #{{ output_div }}.vega-embed { width: 100%; display: flex; }
  #{{ output_div }}.vega-embed details,
  #{{ output_div }}.vega-embed details summary { position: relative; }
</style>
<div id="{{ output_div }}" class="annolab-chart">{{ placeholder }}</div>
<script type="text/javascript">
(() => {
  const id = "{{ output_div }}";
  const script = document.currentScript;
  const sibling = script && script.previousElementSibling;
  const el = sibling && sibling.id === id ? sibling : document.getElementById(id);
  const spec = {{ spec | script_safe }};
  const options = {{ embed_options | script_safe }};
  const unpack = (packed) => {
    if (typeof DecompressionStream !== "function") {
      return Promise.reject(new Error(
        "this browser has no DecompressionStream (Chrome 80, Firefox 113, Safari 16.4 have it)"));
    }
    const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then((code) => {
      const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
      return import(url).finally(() => URL.revokeObjectURL(url));
    });
  };
  const loaded = globalThis.__annolabVega || (globalThis.__annolabVega = {});
  const vega = loaded["{{ key }}"] || (loaded["{{ key }}"] = unpack("{{ packed }}"));
  vega
    .then((lib) => {
      el.textContent = "";
      return lib.embed(el, spec, options);
    })
    .catch((error) => {
      el.textContent = "annolab could not draw this chart: " + error;
      console.error("annolab chart " + id, error);
    });
})();
</script>
"""

_PLACEHOLDER = (
    "An Altair chart: its script draws it here once it runs "
    "(in Jupyter, run the cell or trust the notebook)."
)


@dataclass(frozen=True)
class Bundle:
    """The built ``vega.js``: the versions in it and the packed copy each chart carries."""

    versions: dict[str, str]  # {"vega": "6.4.0", "vega-lite": "6.4.1", "vega-embed": "7.3.0"}
    key: str  # a page keeps one unpacked copy per key
    packed: str  # base64 of the gzip-compressed module
    size: int  # bytes of the module itself

    @property
    def vega_lite_major(self) -> str:
        return self.versions["vega-lite"].split(".")[0]


@functools.cache
def load_bundle(path: Path = BUNDLE) -> Bundle | None:
    """The bundle at ``path``, or None when it is missing or not one of annolab's builds.

    >>> load_bundle().versions["vega-lite"].split(".")[0]  # doctest: +SKIP
    '6'
    """
    try:
        code = path.read_bytes()
    except FileNotFoundError:
        return None
    banner = _BANNER.match(code)
    if banner is None:
        return None
    versions = dict(item.split("@", 1) for item in banner["versions"].decode().split())
    if "vega-lite" not in versions:
        return None
    # mtime=0: the same bundle packs to the same bytes, so re-running a notebook leaves its
    # outputs unchanged.
    packed = base64.b64encode(gzip.compress(code, compresslevel=9, mtime=0)).decode("ascii")
    key = hashlib.sha256(code).hexdigest()[:16]
    return Bundle(versions=versions, key=key, packed=packed, size=len(code))


def schema_major(schema_version: str) -> str:
    """``"6"`` for Altair's ``SCHEMA_VERSION`` ``"v6.4.1"``."""
    return schema_version.lstrip("v").split(".")[0]


def version_problem(bundle: Bundle, schema_version: str) -> str | None:
    """Why the bundle cannot draw what this Altair emits, or None when the majors agree."""
    if bundle.vega_lite_major == schema_major(schema_version):
        return None
    return (
        f"annolab's offline chart renderer is off: Altair emits Vega-Lite {schema_version} "
        f"but annolab's bundle holds vega-lite@{bundle.versions['vega-lite']}; the majors must "
        f"match. Install an Altair that emits Vega-Lite {bundle.vega_lite_major} "
        f"(alt.SCHEMA_VERSION), or rebuild the bundle with a matching vega-lite in "
        f"widgets/package.json ({BUILD_COMMAND})."
    )


@functools.cache
def _template(key: str, packed: str) -> jinja2.Template:
    # Not HTML-escaped: what goes in is JSON (made script-safe by the filter) and our own text.
    env = jinja2.Environment(autoescape=False)  # noqa: S701
    env.filters["script_safe"] = lambda text: str(text).replace("<", "\\u003c")
    return env.from_string(
        _TEMPLATE, globals={"key": key, "packed": packed, "placeholder": _PLACEHOLDER}
    )


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(line) for line in title)
    return f" {title!r}" if isinstance(title, str) and title else ""


def render(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """The mimebundle of a chart: ``text/html`` that draws it offline, and ``text/plain``.

    Altair calls it with the chart's spec, and with ``embed_options`` when they were set with
    ``alt.renderers.set_embed_options(...)``.

    >>> import altair as alt
    >>> bundle = render(alt.Chart().mark_point().to_dict())
    >>> sorted(bundle)
    ['text/html', 'text/plain']
    """
    from altair.utils.mimebundle import spec_to_mimebundle

    plain = f"<Altair chart{_title(spec)}, drawn by annolab's offline renderer>"
    bundle = load_bundle(BUNDLE)
    if bundle is None:
        note = (
            f"annolab cannot draw this chart: its Vega bundle is not built ({BUNDLE} is "
            f"missing). Run: {BUILD_COMMAND}"
        )
        return {"text/html": f"<pre>{note}</pre>", "text/plain": f"{plain}\n{note}"}
    html = spec_to_mimebundle(
        spec,
        format="html",
        mode="vega-lite",
        vega_version=bundle.versions.get("vega", ""),
        vegalite_version=bundle.versions["vega-lite"],
        vegaembed_version=bundle.versions.get("vega-embed", ""),
        embed_options=metadata.get("embed_options"),
        template=_template(bundle.key, bundle.packed),
        output_div=f"annolab-chart-{uuid.uuid4().hex}",
    )["text/html"]
    return {"text/html": html, "text/plain": plain}


def enable_unless_chosen() -> bool:
    """Registers the renderer and enables it if Altair's own default is still active.

    A renderer the user picked before importing annolab stays; so does Altair's own when the
    bundle was built for another Vega-Lite major than Altair emits (with a warning saying so).
    True when this renderer is now active.
    """
    import altair as alt

    if NAME not in alt.renderers.names():
        alt.renderers.register(NAME, render)
    if alt.renderers.active == NAME:
        return True
    if alt.renderers.active != "default":
        return False
    bundle = load_bundle(BUNDLE)
    problem = None if bundle is None else version_problem(bundle, alt.SCHEMA_VERSION)
    if problem is not None:
        warnings.warn(problem, stacklevel=2)
        return False
    # Options set with alt.renderers.set_embed_options() before the import carry over.
    alt.renderers.enable(NAME, **alt.renderers.options)
    return True
