"""The Ollama-protocol test server, as the real ``ollama`` client sees it: the other persona
tests (and the embedding tests) rely on these behaviours."""

from __future__ import annotations

import asyncio
import math
import time

import ollama
import pytest

from tests.ollama_server import Reply, digest_of, embedding, serve_ollama


def test_tags_and_show_report_the_same_digest() -> None:
    with serve_ollama(["llama3.2"], capabilities={"llama3.2": ["completion"]}) as server:
        client = ollama.Client(host=server.url)
        (listed,) = client.list().models
        shown = client.show("llama3.2:latest")
    assert (listed.model, listed.digest) == ("llama3.2", digest_of("llama3.2:latest"))
    assert shown.capabilities == ["completion"]


def test_generate_streams_ndjson_with_counts_at_the_end() -> None:
    with serve_ollama(["m"], responder=lambda r: "one two three four") as server:
        client = ollama.Client(host=server.url)
        whole = client.generate(model="m", prompt="say four words", stream=False)
        parts = list(client.generate(model="m", prompt="say four words", stream=True))
    assert whole.response == "one two three four"
    assert (whole.prompt_eval_count, whole.eval_count) == (3, 4)
    assert "".join(p.response or "" for p in parts) == "one two three four"
    assert [p.done for p in parts] == [False, False, False, True]
    assert parts[-1].eval_count == 4


def test_chat_streams_the_same_answer_as_it_returns_whole() -> None:
    with serve_ollama(["m"], responder=lambda r: '{"label": "x"}') as server:
        client = ollama.Client(host=server.url)
        messages = [{"role": "user", "content": "hi"}]
        whole = client.chat(model="m", messages=messages, stream=False)
        streamed = "".join(
            p.message.content or "" for p in client.chat(model="m", messages=messages, stream=True)
        )
    assert whole.message.content == streamed == '{"label": "x"}'


def test_embeddings_are_unit_vectors_fixed_by_the_text() -> None:
    with serve_ollama(["all-minilm"], dimensions=8) as server:
        client = ollama.Client(host=server.url)
        two = client.embed(model="all-minilm", input=["a", "b"]).embeddings
        again = client.embed(model="all-minilm", input="a").embeddings[0]
        wide = client.embed(model="all-minilm", input="a", dimensions=16).embeddings[0]
    assert len(two) == 2
    assert list(two[0]) == list(again) == embedding("a", 8)
    assert two[0] != two[1]
    assert math.isclose(sum(v * v for v in two[0]), 1.0)
    assert len(wide) == 16


def test_an_unknown_model_is_a_404_that_says_pull() -> None:
    with serve_ollama(["m"]) as server, pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=server.url).chat(model="other", messages=[])
    assert caught.value.status_code == 404
    assert caught.value.error == 'model "other" not found, try pulling it first'


def test_scripted_replies_come_first_then_the_responder() -> None:
    with serve_ollama(["m"], responder=lambda r: "default") as server:
        server.script("first", Reply(status=500, error="boom"))
        client = ollama.Client(host=server.url)
        said = client.generate(model="m", prompt="", stream=False).response
        with pytest.raises(ollama.ResponseError) as caught:
            client.generate(model="m", prompt="", stream=False)
        after = client.generate(model="m", prompt="", stream=False).response
    assert (said, caught.value.status_code, after) == ("first", 500, "default")


def test_slots_bound_parallel_generations() -> None:
    async def ask_all(url: str) -> float:
        client = ollama.AsyncClient(host=url)
        started = time.perf_counter()
        await asyncio.gather(
            *(client.generate(model="m", prompt="", stream=False) for _ in range(6))
        )
        return time.perf_counter() - started

    with serve_ollama(["m"], latency=0.2, slots=2) as server:
        seconds = asyncio.run(ask_all(server.url))
    assert server.peak == 2
    assert seconds >= 0.6  # three rounds of two
