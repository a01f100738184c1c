"""The persona path with a real model: SmolLM2-135M-Instruct, run by llama.cpp behind the
Ollama protocol, is prompted, answers in schema-constrained JSON, and its answers are validated
and stored with their provenance, or recorded as failures with the raw answer.

The model runs in a child process (``tests/real_model_fixtures.py``): a crash of llama.cpp
fails the test that was talking to it, and the next test gets a new server. Skipped only where
llama-cpp-python or the model package is not installed; under CI (where ``make test`` installs
both) a missing one fails instead, so a broken install cannot pass as a skip.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import ollama
import pytest

import annolab as al
from annolab.datasets import wnut17
from annolab.errors import ValidationError
from annolab.personas import output_schema
from annolab.personas.schemas import to_payload
from annolab.schema import LabelSchema, validate_payload
from tests.real_model import MODEL, gguf_path
from tests.real_model_server import ModelServer

pytest_plugins = ["tests.real_model_fixtures"]
pytestmark = [pytest.mark.db, pytest.mark.slow]

# Greedy decoding (temperature 0) with a fixed seed: the same answers on every run. Short
# answers keep the test quick; a cut-off answer is a failure like any other invalid one.
OPTIONS = {"temperature": 0, "seed": 42, "num_predict": 96}
SENTIMENTS = ["positive", "negative", "neutral"]
ENTITIES = ["person", "location", "group", "corporation", "product", "creative-work"]


@pytest.fixture
def host(real_model_host: str) -> str:
    return real_model_host


def tweets(project: al.Project, count: int) -> list[str]:
    """Add the first ``count`` WNUT 2017 tweets (CC-BY 4.0) as tasks; returns their ids."""
    frame = wnut17().head(count).select("id", "text")
    project.add_tasks(frame, id="id")
    return frame["id"].to_list()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_the_server_reports_the_digest_of_the_model_file(
    real_model: ModelServer, host: str
) -> None:
    path = gguf_path()
    assert path is not None
    expected = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    (listed,) = ollama.Client(host=host).list().models
    assert (listed.model, listed.digest) == (MODEL, expected)
    assert real_model.digest == expected


@pytest.mark.parametrize("stream", [False, True])
def test_generate_answers_in_the_requested_schema(host: str, stream: bool) -> None:
    schema = output_schema("choice", LabelSchema.from_names(SENTIMENTS))
    prompt = "Is 'THIS IS SO GOOD' positive, negative or neutral?"
    client = ollama.Client(host=host)
    if stream:
        parts = list(client.generate(MODEL, prompt, format=schema, options=OPTIONS, stream=True))
        text, last = "".join(p.response or "" for p in parts), parts[-1]
    else:
        last = client.generate(MODEL, prompt, format=schema, options=OPTIONS)
        text = last.response or ""
    answer = json.loads(text)
    assert {"label"} <= set(answer) <= {"label", "confidence"}  # confidence is optional
    assert answer["label"] in SENTIMENTS
    assert 0 <= answer.get("confidence", 0) <= 1
    assert last.done
    assert (last.prompt_eval_count or 0) > 0
    assert (last.eval_count or 0) > 0


def test_a_real_model_classifies_tweets_and_a_rerun_asks_nothing(
    workspace: al.Workspace, real_model: ModelServer, host: str
) -> None:
    project = workspace.create_project(unique("real"), labels=SENTIMENTS, layout="classify")
    ids = tweets(project, 3)
    persona = workspace.personas.create(
        unique("smol"), model=MODEL, description="You judge the mood of tweets.", options=OPTIONS
    )
    calls = real_model.calls()
    # retries=0: greedy decoding gives the same answer again, so a retry would only cost time.
    summary = persona.annotate(project, limit=3, host=host, retries=0, progress=False)
    assert (summary.done, summary.cached, summary.failed) == (3, 0, 0)
    assert real_model.calls() - calls == 3
    assert summary.prompt_tokens > 0
    assert summary.completion_tokens > 0

    stored = project.annotations().sort("external_id")
    assert stored["external_id"].to_list() == ids
    assert stored["kind"].unique().to_list() == ["persona"]
    assert stored["user"].unique().to_list() == [persona.name]
    assert stored["model"].unique().to_list() == [MODEL]
    assert stored["model_digest"].unique().to_list() == [real_model.digest]
    assert stored["prompt_hash"].n_unique() == 1
    assert len(stored["prompt_hash"][0]) == 64
    for payload in stored["payload"]:
        checked = validate_payload(json.loads(payload), labels=SENTIMENTS).to_dict()
        assert checked["kind"] == "choice"
        assert checked["label"] in SENTIMENTS

    again = persona.annotate(project, limit=3, host=host, retries=0, progress=False)
    assert (again.done, again.cached, again.failed) == (0, 3, 0)
    assert real_model.calls() - calls == 3  # nothing more was asked
    assert again.results["payload"].to_list() == summary.results["payload"].to_list()
    assert len(project.annotations()) == 3


def test_a_real_model_marks_entities_or_fails_with_its_raw_answer(
    workspace: al.Workspace, real_model: ModelServer, host: str
) -> None:
    """A 135M model quotes words that may not be in the tweet: such an answer is valid JSON
    (the grammar sees to that) but an invalid annotation, recorded as a failure. Streaming."""
    project = workspace.create_project(unique("real"), labels=ENTITIES)
    texts = dict(wnut17().head(3).select("id", "text").iter_rows())
    tweets(project, 3)
    persona = workspace.personas.create(unique("smol"), model=MODEL, options=OPTIONS)
    calls = real_model.calls()
    summary = persona.annotate(project, limit=3, host=host, retries=0, stream=True, progress=False)
    assert summary.done + summary.failed == 3
    assert real_model.calls() - calls == 3

    stored = project.annotations()
    assert len(stored) == summary.done
    for task, payload in zip(stored["external_id"], stored["payload"], strict=True):
        checked = validate_payload(json.loads(payload), labels=ENTITIES, text=texts[task])
        assert checked.to_dict()["kind"] == "spans"
    assert set(stored["model_digest"].to_list()) <= {real_model.digest}

    failures = persona.failures()
    assert len(failures) == summary.failed
    for item, error, raw in failures.select("item", "error", "raw_response").iter_rows():
        # The raw answer is kept, and the recorded error is what the validator says about it.
        with pytest.raises(ValidationError) as invalid:
            to_payload(raw, "spans", project.labels, text=texts[item])
        assert error == f"attempt 1: invalid answer: {invalid.value}"
        if "is not valid JSON" not in error:  # only an answer cut off at num_predict is not
            assert set(json.loads(raw)) == {"spans"}

    # Answered items come from the cache; failed ones are asked again.
    again = persona.annotate(project, limit=3, host=host, retries=0, stream=True, progress=False)
    assert (again.cached, again.done + again.failed) == (summary.done, summary.failed)
    assert real_model.calls() - calls == 3 + summary.failed
