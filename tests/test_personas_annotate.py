"""``persona.annotate`` end to end: the real ``ollama`` client over HTTP to the protocol server,
answers validated and stored in Postgres with their provenance."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
import threading
import uuid
import zlib
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import PersonaError
from annolab.personas import output_schema
from annolab.personas.run import Call, Item, annotate_items
from tests.ollama_server import Reply, Request, digest_of, serve_ollama

pytestmark = pytest.mark.db

MODEL = "llama3.2"
TEXTS = {"a": "Ada met Bob in Rome", "b": "nothing here", "c": "Cy saw Cy"}


def item_text(request: Request) -> str:
    """The task text, read back from the last line of the task prompt."""
    found = re.search(r"^Text: (.*)$", request.prompt, re.MULTILINE)
    assert found is not None, request.prompt
    return str(json.loads(found.group(1)))


def capitalised_words(request: Request) -> str:
    """A model that calls every capitalised word a person."""
    words = re.findall(r"\b[A-Z][a-z]+\b", item_text(request))
    return json.dumps({"spans": [{"text": w, "label": "person"} for w in words]})


@pytest.fixture
def ner(project: al.Project) -> al.Project:
    frame = pl.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())})
    project.add_tasks(frame, id="id")
    return project


def persona(workspace: al.Workspace, model: str = MODEL) -> al.personas.Persona:
    return workspace.personas.create(f"p-{uuid.uuid4().hex[:10]}", model=model, traits={"r": 0.5})


def fast(**extra: object) -> dict[str, object]:
    """Run options for tests: no waiting between retries, no progress bar."""
    return {"backoff": 0.0, "progress": False, **extra}


def test_answers_are_stored_with_their_provenance(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([f"{MODEL}:latest"], responder=capitalised_words) as server:
        summary = annotator.annotate(ner, host=server.url, **fast())
    assert (summary.done, summary.cached, summary.failed) == (3, 0, 0)
    stored = ner.annotations().sort("external_id")
    assert stored["kind"].unique().to_list() == ["persona"]
    assert stored["user"].unique().to_list() == [annotator.name]
    assert stored["persona_version"].unique().to_list() == [1]
    assert stored["model"].unique().to_list() == [MODEL]
    assert stored["model_digest"].unique().to_list() == [digest_of(f"{MODEL}:latest")]
    assert stored["prompt_hash"].n_unique() == 1
    assert len(stored["prompt_hash"][0]) == 64
    assert [json.loads(p)["spans"] for p in stored["payload"]] == [
        [
            {"start": 0, "end": 3, "label": "person"},
            {"start": 8, "end": 11, "label": "person"},
            {"start": 15, "end": 19, "label": "person"},
        ],
        [],
        [{"start": 0, "end": 2, "label": "person"}, {"start": 7, "end": 9, "label": "person"}],
    ]


def test_the_request_carries_the_system_prompt_the_schema_and_options(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = workspace.personas.create(
        f"p-{uuid.uuid4().hex[:10]}", model=MODEL, options={"temperature": 0, "seed": 7}
    )
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        annotator.annotate(ner, host=server.url, limit=1, **fast())
    (request,) = [r for r in server.requests if r.path == "/api/chat"]
    assert request.body["messages"][0] == {"role": "system", "content": annotator.system_prompt}
    assert request.body["format"] == output_schema("spans", ner.labels)
    assert request.body["options"] == {"temperature": 0, "seed": 7}
    assert item_text(request) == TEXTS["a"]


def test_a_rerun_is_answered_from_the_cache(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        first = annotator.annotate(ner, host=server.url, **fast())
        asked = server.calls("/api/chat")
        second = annotator.annotate(ner, host=server.url, **fast())
        assert server.calls("/api/chat") == asked == 3
    assert (second.done, second.cached, second.failed, second.tokens) == (0, 3, 0, 0)
    assert first.tokens > 0
    assert second.results["payload"].to_list() == first.results["payload"].to_list()
    assert len(ner.annotations()) == 3  # the same annotations, not copies


def test_a_new_version_is_not_answered_from_the_old_cache(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        annotator.annotate(ner, host=server.url, **fast())
        summary = annotator.edit(traits={"r": 0.9}).annotate(ner, host=server.url, **fast())
        assert server.calls("/api/chat") == 6
    assert (summary.done, summary.cached) == (3, 0)
    assert sorted(ner.annotations()["persona_version"].to_list()) == [1, 1, 1, 2, 2, 2]


def test_malformed_json_is_retried_then_recorded_while_others_succeed(
    workspace: al.Workspace, ner: al.Project
) -> None:
    def broken_on_b(request: Request) -> str:
        return "Sure! {spans: none" if item_text(request) == TEXTS["b"] else '{"spans": []}'

    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=broken_on_b) as server:
        summary = annotator.annotate(ner, host=server.url, retries=2, **fast())
        assert server.calls("/api/chat") == 2 + 3  # a and c once, b three times
    assert (summary.done, summary.failed) == (2, 1)
    failed = summary.results.filter(pl.col("error").is_not_null())
    assert failed.select("item", "attempts").row(0) == ("b", 3)
    assert sorted(ner.annotations()["external_id"].to_list()) == ["a", "c"]
    recorded = annotator.failures()
    assert recorded.select("item", "version", "attempts", "raw_response").row(0) == (
        "b",
        1,
        3,
        "Sure! {spans: none",
    )
    assert recorded["error"][0].startswith("attempt 1: invalid answer: response='Sure! {spans")
    assert "attempt 3: invalid answer" in recorded["error"][0]


def test_an_answer_that_fails_validation_is_retried(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script('{"spans": [{"text": "Zed", "label": "person"}]}')
        summary = annotator.annotate(ner, host=server.url, limit=1, **fast())
    assert summary.results.select("attempts", "error").row(0) == (2, None)
    assert summary.done == 1


def test_http_500_is_retried(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script(Reply(status=500, error="out of memory"))
        summary = annotator.annotate(ner, host=server.url, limit=1, **fast())
    assert summary.results.select("attempts", "error").row(0) == (2, None)


def test_errors_that_never_clear_are_recorded_per_attempt(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=lambda r: Reply(status=503, error="busy")) as server:
        summary = annotator.annotate(ner, host=server.url, limit=1, retries=1, **fast())
    assert summary.results["error"][0] == "attempt 1: HTTP 503: busy; attempt 2: HTTP 503: busy"
    assert annotator.failures()["raw_response"].to_list() == [None]


def test_a_timeout_is_a_failure_not_a_hang(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script(Reply(content="{}", delay=30))
        summary = annotator.annotate(
            ner, host=server.url, limit=1, retries=0, timeout=0.5, **fast()
        )
    assert summary.seconds < 10
    assert summary.results["error"].to_list() == ["attempt 1: no answer within 0.5 s"]


def test_a_missing_model_names_the_pull_to_run(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace, model="qwen3:4b")
    with (
        serve_ollama([MODEL]) as server,
        pytest.raises(PersonaError) as caught,
    ):
        annotator.annotate(ner, host=server.url, **fast())
    assert (
        str(caught.value) == "the Ollama model 'qwen3:4b' is not pulled: run `ollama pull qwen3:4b`"
    )
    assert server.calls("/api/chat") == 0


def test_an_unreachable_ollama_says_how_to_start_it(
    workspace: al.Workspace, ner: al.Project
) -> None:
    with pytest.raises(PersonaError) as caught:
        persona(workspace).annotate(ner, host="http://127.0.0.1:1", **fast())
    assert str(caught.value) == (
        "Ollama is not reachable at http://127.0.0.1:1: start it with `ollama serve`, "
        "or set OLLAMA_HOST to where it runs"
    )


def test_streaming_and_not_give_the_same_annotations(
    workspace: al.Workspace, ner: al.Project
) -> None:
    streamed, whole = persona(workspace), persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        one = streamed.annotate(ner, host=server.url, stream=True, **fast())
        two = whole.annotate(ner, host=server.url, stream=False, **fast())
    chats = [r.body["stream"] for r in server.requests if r.path == "/api/chat"]
    assert sorted(chats) == [False] * 3 + [True] * 3
    assert one.results["payload"].to_list() == two.results["payload"].to_list()
    assert one.completion_tokens == two.completion_tokens > 0


def test_concurrency_is_bounded(workspace: al.Workspace, project: al.Project) -> None:
    texts = [f"Name{i} here" for i in range(12)]
    project.add_tasks(pl.DataFrame({"text": texts}))
    with serve_ollama([MODEL], responder=capitalised_words, latency=0.1, slots=8) as server:
        summary = persona(workspace).annotate(project, host=server.url, concurrency=3, **fast())
    assert summary.done == 12
    assert server.peak == 3


def test_classification_answers_a_choice(workspace: al.Workspace) -> None:
    project = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["positive", "negative"], layout="classify"
    )
    project.add_tasks(pl.DataFrame({"id": ["x", "y"], "text": ["great!", "awful"]}), id="id")

    def sentiment(request: Request) -> str:
        label = "positive" if "great" in item_text(request) else "negative"
        return json.dumps({"label": label})

    with serve_ollama([MODEL], responder=sentiment) as server:
        persona(workspace).annotate(project, host=server.url, **fast())
        schema = server.requests[-1].body["format"]
    assert schema == output_schema("choice", project.labels)
    stored = project.annotations().sort("external_id")
    assert [json.loads(p) for p in stored["payload"]] == [
        {"kind": "choice", "label": "positive"},
        {"kind": "choice", "label": "negative"},
    ]


def test_a_frame_is_annotated_without_storing_annotations(workspace: al.Workspace) -> None:
    frame = pl.DataFrame({"id": [10, 11], "text": ["sports news", "election day"]})

    def topics(request: Request) -> str:
        return json.dumps({"labels": ["sports"] if "sports" in item_text(request) else []})

    with serve_ollama([MODEL], responder=topics) as server:
        summary = persona(workspace).annotate(
            frame, labels=["sports", "politics"], task="choices", host=server.url, **fast()
        )
    assert summary.results.select("item", "payload").rows() == [
        ("10", '{"kind": "choices", "labels": ["sports"]}'),
        ("11", '{"kind": "choices", "labels": []}'),
    ]


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_boxes_send_image_bytes_and_are_checked_against_the_image(
    workspace: al.Workspace, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(_png(40, 30))
    project = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["cat"], layout="bbox"
    )
    project.add_tasks(pl.DataFrame({"id": ["img"], "text": [str(image)]}), id="id")
    seen: list[bytes] = []

    def vision(request: Request) -> str:
        seen.append(base64.b64decode(request.images[0]))
        x = 35 if len(seen) == 1 else 5  # the first box runs off the 40-pixel-wide image
        return json.dumps({"boxes": [{"label": "cat", "x": x, "y": 2, "width": 10, "height": 8}]})

    with serve_ollama([MODEL], responder=vision) as server:
        summary = persona(workspace).annotate(project, host=server.url, **fast())
        prompt = server.requests[-1].prompt
    assert seen == [image.read_bytes()] * 2
    assert "(40 wide, 30 high)" in prompt
    assert summary.results.select("attempts", "error").row(0) == (2, None)
    assert json.loads(project.annotations()["payload"][0])["boxes"] == [
        {"x": 5.0, "y": 2.0, "width": 10.0, "height": 8.0, "label": "cat"}
    ]


def test_an_unreadable_image_fails_alone(workspace: al.Workspace, tmp_path: Path) -> None:
    image = tmp_path / "dog.png"
    image.write_bytes(_png(20, 20))
    project = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["dog"], layout="bbox"
    )
    paths = [str(image), str(tmp_path / "gone.png")]
    project.add_tasks(pl.DataFrame({"id": ["here", "gone"], "text": paths}), id="id")
    answer = json.dumps({"boxes": [{"label": "dog", "x": 1, "y": 1, "width": 5, "height": 5}]})
    with serve_ollama([MODEL], responder=lambda r: answer) as server:
        summary = persona(workspace).annotate(project, host=server.url, **fast())
        assert server.calls("/api/chat") == 1
    assert summary.results.select("item", "error").rows() == [
        ("here", None),
        ("gone", f"image={str(tmp_path / 'gone.png')!r} is not a file that exists"),
    ]


def test_each_run_is_recorded_as_an_event(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        annotator.annotate(ner, host=server.url, **fast())
        annotator.annotate(ner, host=server.url, **fast())
    with workspace.engine.begin() as conn:
        runs = (
            conn.execute(
                sa.text(
                    "SELECT after FROM events WHERE action = 'persona.annotated' "
                    "AND project_id = :p ORDER BY id"
                ),
                {"p": ner.id},
            )
            .scalars()
            .all()
        )
    assert [(r["done"], r["cached"], r["failed"], r["version"]) for r in runs] == [
        (3, 0, 0, 1),
        (0, 3, 0, 1),
    ]
    assert runs[0]["model_digest"] == digest_of(f"{MODEL}:latest")


def test_boxes_need_a_model_that_can_see(workspace: al.Workspace, tmp_path: Path) -> None:
    project = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["cat"], layout="bbox"
    )
    project.add_tasks(pl.DataFrame({"text": [str(tmp_path / "cat.png")]}))
    text_only = {MODEL: ["completion"]}
    with (
        serve_ollama([MODEL], capabilities=text_only) as server,
        pytest.raises(PersonaError) as caught,
    ):
        persona(workspace).annotate(project, host=server.url, **fast())
    assert str(caught.value) == (
        f"the model {MODEL!r} cannot read images (it can: completion); boxes need a vision "
        "model: run `ollama pull llama3.2-vision` and edit the persona with "
        "model='llama3.2-vision'"
    )


def test_annotate_works_where_an_event_loop_already_runs(
    workspace: al.Workspace, ner: al.Project
) -> None:
    # A Jupyter kernel runs its cells inside a running event loop.
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:

        async def cell() -> al.personas.RunSummary:
            return annotator.annotate(ner, host=server.url, **fast())

        summary = asyncio.run(cell())
    assert (summary.done, summary.failed) == (3, 0)


def test_a_broken_protocol_reply_fails_one_item_only(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script(Reply(body="<html>proxy error</html>"))
        summary = annotator.annotate(ner, host=server.url, retries=0, concurrency=1, **fast())
    assert (summary.done, summary.failed) == (2, 1)
    assert summary.results["error"][0].startswith("attempt 1: unexpected JSONDecodeError")


def test_a_stop_leaves_out_items_not_yet_started() -> None:
    labels = al.LabelSchema.from_names(["person"])
    items = [Item(str(i), None, "Ada", f"h{i}", prompt='Text: "Ada"') for i in range(5)]
    stored: list[str] = []
    stop = threading.Event()
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        call = Call(
            host=server.url,
            model=MODEL,
            system_prompt="",
            options={},
            schema=output_schema("spans", labels),
            kind="spans",
            labels=labels,
            concurrency=1,
        )
        outcomes = asyncio.run(
            annotate_items(
                call,
                items,
                sink=lambda batch: stored.extend(o.item for o in batch),
                advance=lambda outcome: stop.set(),
                stop=stop,
            )
        )
        assert server.calls("/api/chat") == 1
    assert [o.item for o in outcomes] == stored == ["0"]


def test_an_item_waiting_to_retry_lets_others_run(workspace: al.Workspace, ner: al.Project) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script(Reply(status=500, error="busy"))
        summary = annotator.annotate(
            ner, host=server.url, concurrency=1, progress=False, backoff=0.5
        )
        order = [item_text(r) for r in server.requests if r.path == "/api/chat"]
    assert order == [TEXTS["a"], TEXTS["b"], TEXTS["c"], TEXTS["a"]]
    assert summary.results["attempts"].to_list() == [2, 1, 1]


def test_a_frame_of_image_bytes_gets_boxes(workspace: al.Workspace) -> None:
    frame = pl.DataFrame({"id": ["p1"], "image": [_png(16, 12)]})
    answer = json.dumps({"boxes": [{"label": "cat", "x": 0, "y": 0, "width": 16, "height": 12}]})
    with serve_ollama([MODEL], responder=lambda r: answer) as server:
        summary = persona(workspace).annotate(frame, labels=["cat"], host=server.url, **fast())
        sent = base64.b64decode(server.requests[-1].images[0])
    assert sent == frame["image"][0]
    assert json.loads(summary.results["payload"][0])["boxes"][0]["width"] == 16.0


def test_a_rerun_asks_again_only_about_failed_items(
    workspace: al.Workspace, ner: al.Project
) -> None:
    annotator = persona(workspace)
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        server.script("not json")
        first = annotator.annotate(ner, host=server.url, retries=0, concurrency=1, **fast())
        second = annotator.annotate(ner, host=server.url, retries=0, concurrency=1, **fast())
        assert server.calls("/api/chat") == 3 + 1
    assert (first.done, first.failed) == (2, 1)
    assert (second.done, second.cached, second.failed) == (1, 2, 0)
    assert len(ner.annotations()) == 3


def test_quoted_words_land_on_the_whole_word_not_inside_another(
    workspace: al.Workspace, project: al.Project
) -> None:
    # "Bill" occurs first inside "Billdo": the answer means the separate word later on.
    project.add_tasks(pl.DataFrame({"id": ["w"], "text": ["Billdo met Bill"]}), id="id")
    with serve_ollama([MODEL], responder=capitalised_words) as server:
        summary = persona(workspace).annotate(project, host=server.url, **fast())
    assert (summary.done, summary.failed) == (1, 0)
    stored = json.loads(project.annotations()["payload"][0])
    assert [(s["start"], s["end"]) for s in stored["spans"]] == [(0, 6), (11, 15)]
