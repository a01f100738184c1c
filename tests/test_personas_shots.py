"""Few-shot examples chosen by similarity: each item's prompt holds its closest examples."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

import annolab as al
from annolab.errors import ValidationError
from tests.ollama_server import Request, serve_ollama

pytestmark = pytest.mark.db

MODEL = "llama3.2"
TOPICS = {"music": ("concert", "band", "song"), "sport": ("goal", "match", "team")}
EXAMPLES = [
    {"input": "Great concert last night", "output": {"label": "music"}},
    {"input": "The match was a draw", "output": {"label": "sport"}},
    {"input": "That band can play", "output": {"label": "music"}},
    {"input": "What a goal by the team", "output": {"label": "sport"}},
]


class TopicEmbedder:
    """Vectors that count each topic's words: texts on one topic point the same way."""

    model = "test-topics"

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.append(list(texts))
        rows = [
            [sum(w in text.lower() for w in words) for words in TOPICS.values()] + [0.1]
            for text in texts
        ]
        return np.asarray(rows, dtype=np.float32)


def system_of(request: Request) -> str:
    return str(request.body["messages"][0]["content"])


@pytest.fixture
def topics(workspace: al.Workspace) -> al.Project:
    project = workspace.create_project(
        f"shots-{uuid.uuid4().hex[:8]}", labels=list(TOPICS), layout="classify"
    )
    texts = {"m": "new song from the band", "s": "our team lost the match"}
    project.add_tasks(pl.DataFrame({"id": list(texts), "text": list(texts.values())}), id="id")
    return project


def test_each_item_sees_its_two_closest_examples_and_a_rerun_asks_nothing(
    workspace: al.Workspace, topics: al.Project
) -> None:
    persona = workspace.personas.create(f"p-{uuid.uuid4().hex[:8]}", model=MODEL, examples=EXAMPLES)
    answer = json.dumps({"label": "music"})
    embedder = TopicEmbedder()
    with serve_ollama([MODEL], responder=lambda r: answer) as server:
        first = persona.annotate(
            topics, host=server.url, shots=2, embedder=embedder, progress=False
        )
        chats = [r for r in server.requests if r.path == "/api/chat"]
        embedded_first = len(embedder.asked)
        again = persona.annotate(
            topics, host=server.url, shots=2, embedder=embedder, progress=False
        )
        asked_again = sum(r.path == "/api/chat" for r in server.requests) - len(chats)
    assert (first.done, again.cached, asked_again) == (2, 2, 0)
    shown = {
        ("song" in r.prompt): [
            e["input"] for e in EXAMPLES if json.dumps(e["input"]) in system_of(r)
        ]
        for r in chats
    }
    assert shown == {
        True: ["Great concert last night", "That band can play"],
        False: ["The match was a draw", "What a goal by the team"],
    }
    # The four examples once (kept in pgvector), the two texts once; nothing on the re-run.
    assert embedder.asked[:embedded_first] == [
        [e["input"] for e in EXAMPLES],
        ["new song from the band", "our team lost the match"],
    ]
    assert len(embedder.asked) == embedded_first


def test_shots_need_a_positive_count_and_examples(
    workspace: al.Workspace, topics: al.Project
) -> None:
    with_examples = workspace.personas.create(
        f"p-{uuid.uuid4().hex[:8]}", model=MODEL, examples=EXAMPLES
    )
    bare = workspace.personas.create(f"p-{uuid.uuid4().hex[:8]}", model=MODEL)
    with pytest.raises(ValidationError, match=r"shots=0 .*1 or more"):
        with_examples.annotate(topics, shots=0, embedder=TopicEmbedder(), progress=False)
    with pytest.raises(ValidationError, match="needs a persona with examples"):
        bare.annotate(topics, shots=2, embedder=TopicEmbedder(), progress=False)


def test_personas_are_ranked_by_how_close_their_examples_are_to_the_task(
    workspace: al.Workspace,
) -> None:
    tag = uuid.uuid4().hex[:6]
    music = [e for e in EXAMPLES if e["output"] == {"label": "music"}]
    sport = [e for e in EXAMPLES if e["output"] == {"label": "sport"}]
    workspace.personas.create(f"critic-{tag}", model=MODEL, examples=music)
    workspace.personas.create(f"pundit-{tag}", model=MODEL, examples=sport)
    ranked = workspace.personas.choose("the band played my song", embedder=TopicEmbedder())
    mine = ranked.filter(pl.col("persona").str.ends_with(tag))
    assert mine["persona"].to_list() == [f"critic-{tag}", f"pundit-{tag}"]
    assert mine["examples"].to_list() == [2, 2]
    assert mine["similarity"][0] > 0.9 > 0.2 > mine["similarity"][1]


def test_choose_asks_the_embedding_model_named_on_the_host_given(
    workspace: al.Workspace,
) -> None:
    tag = uuid.uuid4().hex[:6]
    workspace.personas.create(f"critic-{tag}", model=MODEL, examples=EXAMPLES[:1])
    with serve_ollama([MODEL, "nomic-embed-text"], dimensions=8) as server:
        ranked = workspace.personas.choose(
            f"the band {tag}", embedder="nomic-embed-text", host=server.url
        )
        asked = [r.body["model"] for r in server.requests if r.path == "/api/embed"]
    assert f"critic-{tag}" in ranked["persona"].to_list()
    assert asked != []
    assert set(asked) == {"nomic-embed-text"}
