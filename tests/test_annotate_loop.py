"""project.annotate(): the loop that binds a widget to a session, driven by its nonces."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import ipywidgets
import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.annotate import AnnotationLoop
from annolab.errors import AssignmentError
from annolab.session import Queue, Session
from annolab.widgets import NER, Classify


def _project(workspace: al.Workspace, layout: str, texts: list[str]) -> al.Project:
    proj = workspace.create_project(
        f"loop-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout=layout,
        guidelines="Label the feeling.",
    )
    proj.add_tasks(
        pl.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "text": texts}), id="id"
    )
    return proj


def test_submit_and_skip_advance_and_the_skipped_task_stays_in_the_queue(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    loop = proj.annotate("looper")
    assert isinstance(loop.widget, Classify)
    assert loop.progress == "0 of 3 in your queue done; 3 to go"
    loop.widget.value = "pos"
    loop.widget.submit_count += 1  # what Ctrl+Enter does in the page
    assert loop.progress == "1 of 3 in your queue done; 2 to go"
    loop.widget.skip_count += 1  # Esc on t1
    assert (
        loop.progress == "1 of 3 in your queue done; 2 to go (1 skipped)"
    )  # the denominator does not shrink
    assert loop.status == "Skipped t1: it is kept in Back to skipped (1)"
    loop.widget.value = "neg"
    loop.widget.submit_count += 1
    assert loop.widget is None
    assert loop.message == (
        "No new tasks left. You skipped 1: press Back to skipped (1) to return to it, "
        "or call loop.reopen(task)."
    )
    annotations = proj.annotations()
    assert dict(zip(annotations["external_id"], annotations["payload"], strict=True)) == {
        "t0": '{"kind": "choice", "label": "pos"}',
        "t2": '{"kind": "choice", "label": "neg"}',
    }


def test_a_failed_save_keeps_the_work_and_says_why(workspace: al.Workspace) -> None:
    proj = _project(workspace, "ner", ["Ada met Bob"])
    loop = proj.annotate("keeper")
    widget = loop.widget
    assert isinstance(widget, NER)
    widget.value = [{"start": 0, "end": 3, "label": "pos"}]
    proj.evict("t0", "keeper", reason="test: the lease is gone")
    widget.submit_count += 1
    assert loop.widget is widget  # still on screen, with the annotation
    assert [(s["start"], s["end"], s["label"]) for s in widget.value] == [(0, 3, "pos")]
    assert widget.error.startswith("Not saved: assignment=")
    assert widget.error.endswith("Your work is still here; submit again to retry.")
    assert proj.annotations().height == 0


def test_a_draft_is_stored_and_the_task_stays_open(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad"])
    loop = proj.annotate("drafter")
    widget = loop.widget
    assert isinstance(widget, Classify)
    assert widget.show_draft is True  # the loop stores drafts: the button shows
    widget.value = "pos"
    widget.draft_count += 1  # what Ctrl+S does in the page
    assert loop.widget is widget and widget.error == ""
    drafts = proj.annotations()
    assert drafts.select("external_id", "status").rows() == [("t0", "draft")]
    widget.submit_count += 1
    final = proj.annotations()
    # The submit replaces the draft (same id), it does not add a second annotation.
    assert final.select("external_id", "status").rows() == [("t0", "submitted")]
    assert loop.progress == "1 of 2 in your queue done; 1 to go"


class Clock:
    """A clock the test moves: the loop's confirmations and estimates read it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 14, 2, 31, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def wall(self) -> str:
        return f"{self.now.astimezone():%H:%M:%S}"


def _loop(proj: al.Project, user: str, clock: Clock | None = None) -> AnnotationLoop:
    return AnnotationLoop(proj, Session(proj, user, clock=clock))


def test_the_header_names_project_task_and_position_and_the_bar_counts(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    loop = proj.annotate("header")
    assert loop.header == f"{proj.name} · task t0 · 1 of 3"
    assert isinstance(loop.bar, ipywidgets.IntProgress)
    assert (loop.bar.value, loop.bar.max) == (0, 3)
    assert loop.widget is not None
    loop.widget.value = "pos"
    loop.widget.submit_count += 1
    assert loop.header == f"{proj.name} · task t1 · 2 of 3"
    assert (loop.bar.value, loop.bar.max) == (1, 3)


def test_skip_keeps_the_denominator_and_the_skipped_task_can_be_finished(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh", "so-so"])
    loop = proj.annotate("skipper")
    assert loop.widget is not None
    loop.widget.skip_count += 1  # t0 set aside
    assert (loop.bar.value, loop.bar.max) == (0, 4)
    assert loop.back_to_skipped.description == "Back to skipped (1)"
    assert loop.back_to_skipped.layout.display == ""
    for label in ("pos", "neg", "pos"):
        loop.widget.value = label
        loop.widget.submit_count += 1
    assert loop.widget is None
    progress = proj.progress()
    assert (progress.completed, progress.total) == (3, 4)
    # The loop's counts are the store's: 3 done of 4, the fourth skipped and reachable.
    assert (loop.queue.done, loop.queue.total, loop.queue.skipped) == (3, 4, 1)
    assert (loop.bar.value, loop.bar.max) == (3, 4)
    assert loop.session.skipped() == ["t0"]
    loop.back_to_skipped.click()
    assert loop.status == "Reopened t0"
    assert loop.widget is not None and loop.session.current is not None
    assert loop.session.current.external_id == "t0"
    assert loop.back_to_skipped.layout.display == "none"  # nothing else is set aside
    loop.widget.value = "neg"
    loop.widget.submit_count += 1
    assert loop.message == "Nothing left in your queue. Thank you!"
    assert (loop.bar.value, loop.bar.max) == (4, 4)
    assert loop.bar.bar_style == "success"
    assert proj.progress().completed == 4
    assert proj.history("t0")["action"].to_list()[:3] == [
        "task.assigned",
        "assignment.skipped",
        "task.assigned",
    ]


def test_confirmations_stay_until_the_next_action(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    clock = Clock()
    loop = _loop(proj, "confirmer", clock)
    widget = loop.widget
    assert isinstance(widget, Classify)
    assert loop.status == ""
    widget.value = "pos"
    widget.draft_count += 1  # Ctrl+S
    assert loop.status == f"Draft saved {clock.wall()}"
    assert loop.progress == "0 of 3 in your queue done; 3 to go (1 with a draft)"
    clock.now += dt.timedelta(seconds=20)
    widget.value = "neg"  # editing is not an action the loop confirms: the line stays
    assert loop.status.startswith("Draft saved ")
    widget.submit_count += 1
    assert loop.status == f"Submitted t0 at {clock.wall()}"
    assert loop.progress == "1 of 3 in your queue done; 2 to go"


def test_a_skipped_draft_and_a_held_draft_come_back_filled(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    session = Session(proj, "returner")
    assert session.next() is not None  # t0, held
    assert session.next(resume=False) is not None  # t1, held too
    session.save_draft({"kind": "choice", "label": "neg"})
    assert session.drafts() == ["t1"]
    loop = AnnotationLoop(proj, session)
    # The oldest held task comes first; the draft on the other one is a click away.
    assert session.current is not None and session.current.external_id == "t0"
    assert loop.back_to_drafts.description == "Drafts (1)"
    assert loop.back_to_drafts.layout.display == ""
    loop.back_to_drafts.click()
    assert session.current is not None and session.current.external_id == "t1"
    assert isinstance(loop.widget, Classify) and loop.widget.value == "neg"
    assert loop.back_to_drafts.layout.display == "none"  # its draft is the one on screen
    loop.widget.submit_count += 1
    assert session.current is not None and session.current.external_id == "t0"
    # A draft, then Esc: skipped, and taking it up again brings the draft back.
    loop.widget.value = "pos"
    loop.widget.draft_count += 1
    loop.widget.skip_count += 1
    assert session.skipped() == ["t0"] and session.drafts() == []
    loop.reopen("t0")
    assert isinstance(loop.widget, Classify) and loop.widget.value == "pos"


def test_reopen_refuses_what_is_not_yours_to_take_up(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad"])
    session = Session(proj, "stranger")
    with pytest.raises(AssignmentError, match=r"task='nope' is not a task of project"):
        session.reopen("nope")
    with pytest.raises(AssignmentError, match=r"task='t1' is not open to you again"):
        session.reopen("t1")  # never claimed by them
    loop = AnnotationLoop(proj, session)
    assert loop.widget is not None
    loop.reopen("t1")
    assert loop.status.startswith("Could not reopen t1: task='t1' is not open to you again")


def test_a_skipped_task_others_filled_leaves_the_queue(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good"])
    mine = Session(proj, "first")
    assert mine.next() is not None
    mine.skip()
    assert mine.queue() == Queue(done=0, open=0, skipped=1, drafted=0)
    other = Session(proj, "second")
    assert other.next() is not None
    other.submit({"kind": "choice", "label": "pos"})
    # Nothing is left to take up: the task is done, so it is no longer in the first queue.
    assert mine.skipped() == []
    assert mine.queue().total == 0


def test_no_estimate_until_five_submits_over_two_minutes(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", [f"text {i}" for i in range(10)])
    clock = Clock()
    loop = _loop(proj, "estimator", clock)

    def submit(after: dt.timedelta) -> None:
        clock.now += after
        assert loop.widget is not None
        loop.widget.value = "pos"
        loop.widget.submit_count += 1

    for _ in range(3):
        submit(dt.timedelta(seconds=2))  # three quick submits say nothing about a rate
    assert loop.estimate == ""
    for _ in range(2):
        submit(dt.timedelta(seconds=2))
    assert loop.estimate == ""  # five submits, but ten seconds of work
    submit(dt.timedelta(minutes=2, seconds=50))
    # Six submits in three minutes: 30 s a task, 4 left.
    assert loop.estimate == "About 30 s a task; about 2 min for the 4 left"


def test_guidelines_show_only_when_the_project_has_some(workspace: al.Workspace) -> None:
    with_guides = _project(workspace, "classify", ["good"])
    loop = with_guides.annotate("reader")
    accordions = [c for c in loop.children if isinstance(c, ipywidgets.Accordion)]
    assert [a.titles for a in accordions] == [("Guidelines",)]
    bare = workspace.create_project(
        f"bare-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    bare.add_tasks(pl.DataFrame({"id": ["b0"], "text": ["x"]}), id="id")
    loop = bare.annotate("reader")
    assert not [c for c in loop.children if isinstance(c, ipywidgets.Accordion)]


def test_printed_progress_states_no_rate_after_three_quick_completions(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, "classify", [f"text {i}" for i in range(8)])
    session = proj.session("sprinter")
    for _ in range(3):
        assert session.next() is not None
        session.submit({"kind": "choice", "label": "pos"})
    shown = repr(proj.progress())
    assert "no rate yet (fewer than 5 completed in 24 h)" in shown
    assert "/h" not in shown and "done by" not in shown
    for _ in range(2):
        assert session.next() is not None
        session.submit({"kind": "choice", "label": "pos"})
    progress = proj.progress()
    assert progress.recent == 5
    assert f"{5 / 24:.1f} tasks an hour over the last 24 h" in repr(progress)
    assert "done by" in repr(progress)


def test_the_event_log_replays_a_skip_taken_up_again(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad"])
    session = proj.session("replayer")
    assert session.next() is not None
    session.skip()
    session.reopen("t0")
    session.submit({"kind": "choice", "label": "neg"})
    rebuilt = proj.replay()
    statuses = dict(zip(*rebuilt["tasks"].select("task_id", "status"), strict=True))
    tasks = dict(zip(*proj.tasks().select("task_id", "status"), strict=True))
    # The log holds the tasks that moved: t0, skipped, taken up again and completed.
    assert statuses == {task: tasks[task] for task in statuses}
    assert list(statuses.values()) == ["completed"]
    assert rebuilt["annotations"]["status"].to_list() == ["submitted"]


def test_back_to_skipped_mid_queue_keeps_the_task_on_screen_for_after(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    loop = proj.annotate("midway")
    assert loop.widget is not None
    loop.widget.skip_count += 1  # t0 set aside; t1 on screen
    assert loop.header.endswith("task t1 · 1 of 3")
    loop.back_to_skipped.click()
    assert loop.header.endswith("task t0 · 1 of 3")
    loop.widget.value = "pos"
    loop.widget.submit_count += 1
    # t1, still held, comes back before anything new.
    assert loop.header.endswith("task t1 · 2 of 3")
    assert (loop.bar.value, loop.bar.max) == (1, 3)
    assert loop.session.skipped() == []


def _race(workspace: al.Workspace) -> tuple[list[str], dict[str, str]]:
    """One task with one place: the annotator who skipped it reopens it while a newcomer
    claims, at the same instant. Returns who holds it and what each was told."""
    proj = _project(workspace, "classify", ["contested"])
    first, second = Session(proj, "first"), Session(proj, "second")
    assert first.next() is not None
    first.skip()
    start = threading.Barrier(2)
    got: dict[str, str] = {}

    def reopen() -> None:
        start.wait()
        try:
            got["first"] = first.reopen("t0").external_id
        except AssignmentError as exc:
            got["first-refused"] = str(exc)

    def claim() -> None:
        start.wait()
        item = second.next()
        if item is not None:
            got["second"] = item.external_id

    threads = [threading.Thread(target=reopen), threading.Thread(target=claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with workspace.engine.begin() as conn:
        assigned = conn.execute(
            sa.text("SELECT assigned FROM tasks WHERE project_id = :p"), {"p": proj.id}
        ).scalar_one()
    assert assigned == 1  # one place, one holder, whoever won
    return [who for who in ("first", "second") if got.get(who) == "t0"], got


def test_a_reopen_racing_a_claim_for_the_last_place_gives_it_to_one(
    workspace: al.Workspace,
) -> None:
    for _ in range(8):
        holders, got = _race(workspace)
        assert len(holders) == 1, got
        if holders == ["second"]:
            assert got["first-refused"].startswith("task='t0' is "), got
