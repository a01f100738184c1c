"""The stand-in model of the persona tutorial (``notebooks/05_persona_experiments.ipynb``):
rules that answer like two personas on WNUT 2017 tweets, with deliberate misses, so the figures
the tutorial shows mean something without a GPU or a pulled model.

- **careful** misses about one entity in seven, and never invents one;
- **eager** marks an extra capitalised word as a person now and then, and skips product names
  and titles of works (``product``, ``creative-work``) unless its system prompt shows it an
  example of that label.

Which persona is asking is read from its system prompt ("You are NAME, ..."; the name up to its
first ``-``). A refinement request (its JSON schema asks for a ``summary``) is answered with a
proposal that takes the corrected items as new examples.

    >>> from annolab.testing.ollama import serve_ollama
    >>> rules = responder(gold_spans)  # doctest: +SKIP
    >>> with serve_ollama(["llama3.2"], responder=rules) as server:  # doctest: +SKIP
    ...     eager.annotate(proj, host=server.url)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from annolab.testing.ollama import Request

Spans = Sequence[Mapping[str, Any]]
_PERSONA = re.compile(r"You are (\S+?),")
_TEXT = re.compile(r"^Text: (.*)$", re.MULTILINE)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")
_SKIPPED = ("product", "creative-work")


def unit(*parts: str) -> float:
    """A number in [0, 1) fixed by its parts: the same question always gets the same answer."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def annotate(name: str, system: str, text: str, gold: Spans) -> dict[str, Any]:
    """The spans persona ``name`` (with system prompt ``system``) gives ``text``."""
    # The name without a run's suffix: the same misses every run.
    role = name.split("-", maxsplit=1)[0]
    spans = []
    for span in gold:
        words, label = text[span["start"] : span["end"]], span["label"]
        if role == "careful" and unit(role, text, words) < 0.15:
            continue
        if role == "eager" and f'"label": "{label}"' not in system and label in _SKIPPED:
            continue
        spans.append({"text": words, "label": label})
    if role == "eager":
        covered = [(s["start"], s["end"]) for s in gold]
        for match in _CAPITALISED.finditer(text):
            first = text.find(match[0])
            outside = all(not (s <= first < e) for s, e in covered)
            if outside and unit("extra", text, match[0]) < 0.25:
                spans.append({"text": match[0], "label": "person"})
                break
    return {"spans": spans}


def propose(request: Request) -> dict[str, Any]:
    """A refinement proposal that adds every corrected item it is offered as an example."""
    items = request.body["format"]["properties"]["examples"]["items"]["properties"]["item"]
    return {
        "summary": "Adds worked examples of product names and titles, which it used to skip.",
        "description": "Marks every entity, including products and titles of works.",
        "traits": [
            {"name": "recall", "value": 0.85, "description": "marks products and titles too"},
            {"name": "caution", "value": 0.3, "description": "sometimes marks a stray word"},
        ],
        "examples": [
            {"item": i, "explanation": "a product or a title"} for i in items.get("enum", [])
        ],
    }


def responder(gold_spans: Mapping[str, Spans]) -> Callable[[Request], str]:
    """The stand-in's answers, given each tweet's gold spans (by text)."""

    def answer(request: Request) -> str:
        if "summary" in request.body["format"]["properties"]:
            return json.dumps(propose(request))
        system = request.body["messages"][0]["content"]
        persona = _PERSONA.match(system)
        found = _TEXT.search(request.prompt)
        if persona is None or found is None:
            return json.dumps({"spans": []})
        text = json.loads(found.group(1))
        return json.dumps(annotate(persona.group(1), system, text, gold_spans.get(text, [])))

    return answer
