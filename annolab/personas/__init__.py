"""LLM personas over Ollama: versioned records that annotate beside humans.

``ollama`` is imported only when a persona first talks to a model, so this package (and
``import annolab``) works without the ``llm`` extra.

>>> persona = ws.personas.create("strict", model="llama3.2")  # doctest: +SKIP
>>> persona.annotate(proj, limit=200)  # doctest: +SKIP
"""

from __future__ import annotations

from annolab.personas.persona import Persona, Personas
from annolab.personas.schemas import output_schema
from annolab.personas.spec import Example, PersonaSpec, Trait
from annolab.personas.summary import RunSummary

__all__ = [
    "Example",
    "Persona",
    "PersonaSpec",
    "Personas",
    "RunSummary",
    "Trait",
    "output_schema",
]
