"""Personas as versioned records: ``workspace.personas.create(...)``, ``.get``, ``.list``, and
on a persona ``edit`` (a new version), ``versions``, ``annotate`` and ``failures``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from annolab.errors import ValidationError
from annolab.personas import batch
from annolab.personas.embedders import DEFAULT_MODEL, as_embedder
from annolab.personas.prompts import render
from annolab.personas.shots import few_shots, rank_personas
from annolab.personas.spec import DEFAULT_TEMPLATE, Example, PersonaSpec, Trait
from annolab.personas.summary import RunSummary
from annolab.schema.enums import UserKind
from annolab.schema.payloads import text_problem
from annolab.store import personas as store
from annolab.store.personas import PersonaVersionRow

if TYPE_CHECKING:
    from annolab.personas.panel import Panel
    from annolab.personas.refine import Proposal
    from annolab.personas.twin import TwinResult
    from annolab.project import Project
    from annolab.workspace import Workspace

_VERSION_SCHEMA: dict[str, Any] = {
    "version": pl.Int32,
    "model": pl.String,
    "description": pl.String,
    "traits": pl.String,
    "examples": pl.Int32,
    "options": pl.String,
    "template": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}


def system_prompt(name: str, spec: PersonaSpec) -> str:
    """The persona's system prompt, rendered from its template in ``prompts/``."""
    return render(
        spec.template,
        name=name,
        description=spec.description,
        traits=[t.model_dump() for t in spec.traits],
        examples=[e.model_dump() for e in spec.examples],
    )


class Persona:
    """One version of a persona. Get it from ``workspace.personas``.

    >>> persona = ws.personas.create("strict", traits={"recall": 0.3},  # doctest: +SKIP
    ...                              model="llama3.2")
    >>> persona.annotate(proj, limit=200)  # doctest: +SKIP
    <RunSummary 'strict' v1 (llama3.2): 200 items, 198 done, 0 cached, 2 failed; ...>
    """

    def __init__(self, workspace: Workspace, row: PersonaVersionRow) -> None:
        self.workspace = workspace
        self._row = row
        self.spec = PersonaSpec.coerce(
            {
                "description": row.description,
                "traits": row.traits,
                "examples": row.examples,
                "model": row.model,
                "options": row.options,
                "template": row.template,
            }
        )

    @property
    def name(self) -> str:
        return self._row.name

    @property
    def version(self) -> int:
        return self._row.version

    @property
    def model(self) -> str:
        return self._row.model

    @property
    def system_prompt(self) -> str:
        """The system prompt this version was rendered with (stored, so it never drifts)."""
        return self._row.system_prompt

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def traits(self) -> tuple[Trait, ...]:
        return self.spec.traits

    @property
    def examples(self) -> tuple[Example, ...]:
        return self.spec.examples

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.spec.options)

    def versions(self) -> pl.DataFrame:
        """Every version of this persona, oldest first."""
        with self.workspace.engine.begin() as conn:
            rows = store.list_versions(conn, self.name)
        return pl.DataFrame(
            [
                {
                    "version": r.version,
                    "model": r.model,
                    "description": r.description,
                    "traits": json.dumps(r.traits),
                    "examples": len(r.examples),
                    "options": json.dumps(r.options),
                    "template": r.template,
                    "created_at": r.created_at,
                }
                for r in rows
            ],
            schema=_VERSION_SCHEMA,
        )

    def to_dict(self) -> dict[str, Any]:
        """The persona as configuration: ``workspace.personas.create(**d)`` makes it again
        (in another workspace, say), and it dumps to YAML as it is.

        >>> persona.to_dict()["traits"]  # doctest: +SKIP
        [{'name': 'recall', 'value': 0.3, 'description': ''}]
        """
        return {"name": self.name, **self.spec.to_dict()}

    def edit(self, **changes: Any) -> Persona:
        """A new version with ``changes`` (description, traits, examples, model, options,
        template) applied to this one. Asking for what the latest version already is makes no
        new version, so a notebook cell can run twice.

        >>> stricter = persona.edit(traits={"recall": 0.2})  # doctest: +SKIP
        >>> stricter.version  # doctest: +SKIP
        2
        """
        spec = PersonaSpec.coerce({**self.spec.to_dict(), **changes})
        return self.workspace.personas._add_version(self.name, spec, create=False)

    def annotate(
        self,
        source: Project | Any,
        *,
        limit: int | None = None,
        concurrency: int = 4,
        retries: int = 2,
        backoff: float = 0.5,
        timeout: float = 120.0,
        stream: bool = False,
        progress: bool = True,
        host: str | None = None,
        labels: Any = None,
        task: str | None = None,
        guidelines: str = "",
        shots: int | None = None,
        embedder: Any = None,
    ) -> RunSummary:
        """Annotate a project's tasks (stored as annotations of kind 'persona') or the rows of
        a frame (returned in the summary's ``results``; give ``labels`` and ``task``). With
        ``limit``, the first ``limit`` tasks in the order they were added.

        ``concurrency`` requests run at once; a malformed or invalid answer, an HTTP error or a
        timeout is retried ``retries`` times, waiting ``backoff`` seconds and then twice as long
        each time, and is then recorded as a failure (see ``failures()``) while the rest go on.
        Answers are cached by (model digest, prompt, input, schema): a re-run asks nothing.
        ``host`` defaults to ``OLLAMA_HOST``.

        ``shots=k`` shows each item only the ``k`` examples most similar to it (embedded in
        pgvector by ``embedder``: an ``Embedder``, or an Ollama embedding model on ``host``,
        ``all-minilm`` by default) instead of all of them.

        >>> persona.annotate(proj, limit=50)  # doctest: +SKIP
        <RunSummary 'strict' v1 (llama3.2): 50 items, 50 done, 0 cached, 0 failed; ...>
        """
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency", concurrency, "must be a whole number, 1 or more")
        if not isinstance(retries, int) or retries < 0:
            raise ValidationError("retries", retries, "must be a whole number, 0 or more")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValidationError("limit", limit, "must be a whole number, 0 or more, or None")
        ws = self.workspace
        if hasattr(source, "workspace") and hasattr(source, "labels"):  # a Project
            with ws.engine.begin() as conn:
                target = batch.project_target(conn, source.name, limit)
        else:
            given: Any = source
            frame = given if isinstance(given, pl.DataFrame) else pl.DataFrame(given)
            target = batch.frame_target(
                frame, labels=labels, task=task, guidelines=guidelines, limit=limit
            )
        row = self._row
        chosen = None
        if shots is not None:
            chosen = few_shots(
                ws.engine,
                version_id=row.id,
                examples=self.examples,
                k=shots,
                embedder=as_embedder(embedder or DEFAULT_MODEL, host=host),
                prompt_with=lambda examples: system_prompt(
                    row.name, self.spec.model_copy(update={"examples": tuple(examples)})
                ),
            )
        return batch.run(
            ws.engine,
            batch.Persona(
                row.id,
                row.user_id,
                row.name,
                row.version,
                row.model,
                row.options,
                row.system_prompt,
            ),
            target,
            actor=ws.user,
            host=host,
            concurrency=concurrency,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            stream=stream,
            progress=progress,
            shots=chosen,
        )

    def failures(self) -> pl.DataFrame:
        """Items this persona (any version) could not annotate, with the last raw answer."""
        with self.workspace.engine.begin() as conn:
            return store.read_failures(conn, self._row.user_id)

    # Feedback and refinement: annolab.personas.feedback and .refine do the work.

    def rate(
        self,
        project: Project,
        task: str,
        rating: int,
        *,
        comment: str = "",
        error_spans: Sequence[Any] = (),
    ) -> int:
        """Rate this version's answer to ``task`` from 1 (useless) to 5 (right), with a comment
        and the stretches of text it got wrong (``{"start", "end", "comment"}``).

        >>> persona.rate(proj, "doc-3", 2, comment="missed the band",  # doctest: +SKIP
        ...              error_spans=[{"start": 10, "end": 17, "comment": "a group"}])
        """
        from annolab.personas.feedback import rate

        return rate(self, project, task, rating, comment=comment, error_spans=error_spans)

    def correct(self, project: Project, task: str, payload: Any) -> Any:
        """Store the right answer to ``task`` as your annotation, linked to this version's
        answer (``parent_id``); returns its id.

        >>> persona.correct(proj, "doc-3", {"kind": "spans", "spans": [  # doctest: +SKIP
        ...     {"start": 10, "end": 17, "label": "group"}]})
        """
        from annolab.personas.feedback import correct

        return correct(self, project, task, payload)

    def feedback(self) -> pl.DataFrame:
        """Ratings and corrections of this persona's answers (every version), oldest first."""
        from annolab.store.feedback import read_persona_feedback

        with self.workspace.engine.begin() as conn:
            return read_persona_feedback(conn, self._row.user_id)

    def refine(
        self, *, host: str | None = None, timeout: float = 300.0, max_examples: int = 3
    ) -> Proposal:
        """Ask this persona's model for a next version from the feedback (the
        ``prompts/refine.j2`` template); returns a proposal to read and ``accept()``.

        >>> proposal = persona.refine()  # doctest: +SKIP
        >>> better = proposal.accept()  # doctest: +SKIP
        """
        from annolab.personas.refine import refine

        return refine(self, host=host, timeout=timeout, max_examples=max_examples)

    def __repr__(self) -> str:
        traits = ", ".join(f"{t.name}={t.value:.2f}" for t in self.traits)
        return (
            f"<Persona {self.name!r} v{self.version}: {self.model}{'; ' if traits else ''}{traits}>"
        )


class Personas:
    """The workspace's personas: ``workspace.personas``."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def create(
        self,
        name: str,
        *,
        model: str,
        description: str = "",
        traits: Sequence[Any] | dict[str, float] = (),
        examples: Sequence[Any] = (),
        options: dict[str, Any] | None = None,
        template: str = DEFAULT_TEMPLATE,
        exist_ok: bool = False,
    ) -> Persona:
        """Create a persona (version 1). With ``exist_ok=True`` an existing persona whose
        latest version says the same is returned instead, so a notebook can run again.

        >>> ws.personas.create("strict", model="llama3.2",  # doctest: +SKIP
        ...     traits=[{"name": "recall", "value": 0.3, "description": "marks only sure ones"}],
        ...     examples=[{"input": "Ada met Bob", "output": {"spans": []},
        ...                "explanation": "first names alone are not entities"}])
        <Persona 'strict' v1: llama3.2; recall=0.30>
        """
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise ValidationError("name", name, "must be a non-empty name without spaces around")
        problem = text_problem(name)
        if problem is not None:
            raise ValidationError("name", name, problem)
        spec = PersonaSpec.coerce(
            {
                "description": description,
                "traits": traits,
                "examples": examples,
                "model": model,
                "options": options or {},
                "template": template,
            }
        )
        with self.workspace.engine.begin() as conn:
            latest = store.get_version(conn, name)
        if latest is not None:
            same = Persona(self.workspace, latest).spec == spec
            if exist_ok and same:
                return Persona(self.workspace, latest)
            rule = (
                f"is already a persona (at version {latest.version}); open it with "
                f"workspace.personas.get({name!r}) and make a new version with .edit(...)"
            )
            raise ValidationError("name", name, rule)
        return self._add_version(name, spec, create=True)

    def _add_version(self, name: str, spec: PersonaSpec, *, create: bool) -> Persona:
        ws = self.workspace
        prompt = system_prompt(name, spec)
        with ws.engine.begin() as conn:
            found = store.find_user(conn, name)
            if found is not None and found[1] != UserKind.PERSONA:
                rule = f"is already a {found[1].value} user; give the persona another name"
                raise ValidationError("name", name, rule)
            if found is not None:
                user_id = found[0]
            elif create:
                user_id = store.create_persona_user(conn, name, actor=ws.user)
            else:
                raise ValidationError("name", name, "is not a persona any more")
            latest = store.get_version(conn, name)
            if latest is not None and Persona(ws, latest).spec == spec:
                return Persona(ws, latest)
            row = store.add_version(
                conn,
                actor=ws.user,
                actor_id=ws.user_id,
                user_id=user_id,
                spec=spec.to_dict(),
                system_prompt=prompt,
            )
        return Persona(ws, row)

    def get(self, name: str, version: int | None = None) -> Persona:
        """Persona ``name`` at ``version`` (the latest when None)."""
        with self.workspace.engine.begin() as conn:
            row = store.get_version(conn, name, version)
            if row is None:
                known = store.read_personas(conn)["name"].to_list()
        if row is None:
            if version is not None and name in known:
                rule = f"is not a version of persona {name!r}; see .versions()"
                raise ValidationError("version", version, rule)
            shown = ", ".join(repr(n) for n in known[:20]) or "none yet"
            if len(known) > 20:
                shown += f", ... ({len(known)} in all; see workspace.personas.list())"
            raise ValidationError("name", name, f"is not a persona; personas are {shown}")
        return Persona(self.workspace, row)

    def panel(self, personas: Sequence[Persona]) -> Panel:
        """Personas that annotate the same items and are measured together.

        >>> ws.personas.panel([strict, loose]).run(proj, limit=50)  # doctest: +SKIP
        """
        from annolab.personas.panel import Panel

        return Panel(self.workspace, personas)

    def evaluate(
        self, versions: Sequence[Persona], project: Project, *, gold: Any = None, **annotate: Any
    ) -> pl.DataFrame:
        """Persona versions ranked on the project's gold answers (or ``gold``, a frame).

        >>> ws.personas.evaluate([persona, better], proj)  # doctest: +SKIP
        """
        from annolab.personas.evaluate import evaluate

        return evaluate(versions, project, gold=gold, **annotate)

    def twin(
        self,
        user: str,
        project: Project,
        *,
        model: str,
        holdout: float = 0.2,
        seed: int = 0,
        name: str | None = None,
        max_examples: int = 5,
        **annotate: Any,
    ) -> TwinResult:
        """A persona made from ``user``'s annotations and comments in ``project``, and how well
        it predicts them on the ``holdout`` share of their items it never saw.

        >>> ws.personas.twin("alice", proj, model="llama3.2", seed=1)  # doctest: +SKIP
        """
        from annolab.personas.twin import twin

        return twin(
            self.workspace,
            user,
            project,
            model=model,
            holdout=holdout,
            seed=seed,
            name=name,
            max_examples=max_examples,
            **annotate,
        )

    def choose(
        self,
        task: str,
        *,
        k: int | None = None,
        embedder: Any = None,
        host: str | None = None,
    ) -> pl.DataFrame:
        """Personas (latest versions with examples) ranked by how close their examples are to
        ``task``, best first: ``persona``, ``similarity`` (mean over its examples), ``best``,
        ``examples``. The examples' embeddings are kept in pgvector (``embedder``: an
        ``Embedder``, or an Ollama embedding model on ``host``, ``all-minilm`` by default).

        >>> ws.personas.choose("chest pain, ECG normal", k=2)  # doctest: +SKIP
        """
        latest = [self.get(name) for name in self.list()["name"].to_list()]
        ranked = rank_personas(
            self.workspace.engine,
            task,
            [(p.name, p._row.id, p.examples) for p in latest],
            # A model named by a string is asked on ``host``, not on the default host.
            embedder=as_embedder(embedder or DEFAULT_MODEL, host=host),
        )
        return ranked if k is None else ranked.head(k)

    def list(self) -> pl.DataFrame:
        """Every persona at its latest version: name, version, versions, model, description,
        traits (JSON), annotations, created_at."""
        with self.workspace.engine.begin() as conn:
            return store.read_personas(conn)

    def __repr__(self) -> str:
        return f"<Personas of {self.workspace!r}>"
