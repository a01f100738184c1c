"""The extension points of annolab: one pluggy hookspec each, under the project name "annolab".

A plugin is a module or object with functions named like these, marked ``@annolab.hooks.hookimpl``
and taking any subset of the arguments by name. ``docs/hooks.md`` describes each with an example;
a test fails when a hook here is missing from it.

Three kinds of hook, by when they run:

- before hooks (``annolab_before_claim``, ``annolab_validate``) run before the transaction they
  guard writes anything, so a veto or an error leaves the database as it was;
- after hooks (``annolab_after_claim``, ``annolab_on_submit``, ``annolab_on_step_completed``)
  run after the commit; an error there is reported as a ``HookWarning`` and never undoes the
  committed work;
- contribution hooks (``annolab_export_formats``, ``annolab_payload_kinds``,
  ``annolab_evaluators``) and ``annolab_prefill`` are asked when annolab needs what they give.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

PROJECT = "annolab"

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def annolab_before_claim(project: Any, user: str) -> str | None:
    """Called when ``user`` (a name) asks for the next task of ``project`` (a ``Project``),
    before the claim's transaction starts. Return a reason (a string) to refuse the claim: the
    user gets an ``AssignmentError`` with that reason and nothing is claimed. Return None to let
    the claim go on. Every plugin's answer counts: one refusal is enough."""


@hookspec
def annolab_after_claim(project: Any, user: str, item: Any) -> None:
    """Called after a claim committed: ``item`` is the claimed task (``annolab.session.Item``:
    ``task_id``, ``external_id``, ``step``, ``text``, ``data``, ``lease_expires_at``). The return
    value is ignored; an error is reported as a ``HookWarning`` and the claim stands."""


@hookspec
def annolab_validate(project: Any, payload: Mapping[str, Any], text: str | None) -> Any:
    """Called for every answer about to be stored (a submit, a draft, a revision, an
    adjudication, an import), after annolab's own checks passed and before any write.
    ``payload`` is the checked answer as a dict, ``text`` the task's text (None when unknown).
    Return None when the answer is fine; otherwise a ``ValidationError``, a
    ``(field, value, rule)`` tuple, a rule string (about ``payload``) or a list of those, or
    raise ``ValidationError``. The first problem is raised to the user as a ``ValidationError``
    and nothing is stored."""


@hookspec(firstresult=True)
def annolab_prefill(project: Any, item: Any) -> Mapping[str, Any] | None:
    """Called when a task is shown in the annotation loop (``session.suggestion()``): return a
    payload to offer as suggestions the annotator accepts or rejects, or None. The first plugin
    that returns a payload wins and a stored persona or model answer is not looked up. The
    payload is checked like any answer; one that does not fit is left out with a message."""


@hookspec
def annolab_on_submit(
    project: Any, user: str, item: Any, annotation_id: str, payload: Mapping[str, Any]
) -> None:
    """Called after a submitted answer (a submit or an adjudication; not a draft) committed:
    ``item`` is the task it answers, ``annotation_id`` the stored annotation's id (a string),
    ``payload`` the stored answer. The return value is ignored; an error is reported as a
    ``HookWarning`` and the annotation stays stored."""


@hookspec
def annolab_on_step_completed(
    project: Any, task_id: int, step: str, annotation_ids: list[str]
) -> None:
    """Called after the transaction in which a workflow step of task ``task_id`` got all its
    annotations committed (the ``step.completed`` event): ``step`` is the step's name,
    ``annotation_ids`` the annotations that completed it. The return value is ignored; an
    error is reported as a ``HookWarning`` and the task stays where the workflow moved it."""


@hookspec
def annolab_export_formats() -> Iterable[Any] | None:
    """Called once after plugins change, when annolab looks up a file format: return
    ``annolab.io.records.Format`` objects to add to the formats ``proj.export`` and
    ``proj.import_file`` know. A plugin's format may not take a built-in format's name."""


@hookspec
def annolab_payload_kinds() -> Iterable[Any] | None:
    """Called once after plugins change, when annolab looks up a payload kind: return
    ``annolab.kinds.Kind`` objects to register (each facet as for a built-in kind). A new
    name adds a kind the payload validator, agreement, consensus and exports accept; a
    built-in name replaces that kind's facets."""


@hookspec
def annolab_evaluators() -> Iterable[Any] | None:
    """Called once after plugins change, when a submission is scored: return
    ``annolab.quality.evaluators.SubmissionEvaluator`` objects. Each scores every submitted
    answer inside the submit's transaction; quality rules name it in ``evaluators``."""
