"""Row-level security on a team server: raw SQL can not read blind annotations."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.roles import add_member, create_login, setup_team_roles


@pytest.fixture
def team(fresh_db: str) -> tuple[str, al.Project]:
    with al.connect(fresh_db, user="owner") as admin:
        setup_team_roles(admin.engine)
        suffix = uuid.uuid4().hex[:6]
        for name in ("alice", "bob"):
            create_login(admin.engine, f"{name}_{suffix}")
        proj = admin.create_project(
            "blind",
            labels=["pos", "neg"],
            layout="classify",
            workflow=al.workflows.vote(annotators=2),
        )
        proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["great"]}), id="id")
        with admin.engine.begin() as conn:
            for name in ("alice", "bob"):
                add_member(conn, project="blind", user=f"{name}_{suffix}")
    return suffix, proj


def _as(url: str, role: str) -> str:
    return sa.make_url(url).set(username=role).render_as_string(hide_password=False)


def _visible(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT u.name FROM annotations a JOIN users u ON u.id = a.user_id "
                        "ORDER BY u.name"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


def test_raw_sql_sees_only_your_own_annotations_until_the_step_releases_them(
    fresh_db: str, team: tuple[str, al.Project]
) -> None:
    suffix, _ = team
    alice, bob = f"alice_{suffix}", f"bob_{suffix}"
    alice_url, bob_url = _as(fresh_db, alice), _as(fresh_db, bob)
    with al.connect(alice_url, user=alice) as ws:
        session = ws.project("blind").session()
        session.next()
        session.submit({"kind": "choice", "label": "pos"})
    assert _visible(alice_url) == [alice]
    assert _visible(bob_url) == []  # blind: bob's raw SQL can not read alice's answer
    with al.connect(bob_url, user=bob) as ws:
        session = ws.project("blind").session()
        session.next()
        session.submit({"kind": "choice", "label": "pos"})
    # Both submitted: the step released them (and bob's session wrote the consensus).
    everyone = sorted(["annolab:consensus", alice, bob])
    assert _visible(alice_url) == everyone
    assert _visible(bob_url) == everyone


def test_an_annotator_can_not_write_as_someone_else(
    fresh_db: str, team: tuple[str, al.Project]
) -> None:
    suffix, _ = team
    bob_url = _as(fresh_db, f"bob_{suffix}")
    engine = sa.create_engine(bob_url)
    try:
        with (
            pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
            engine.begin() as conn,
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
                    "SELECT gen_random_uuid(), t.id, u.id, 'human', 'submitted', '{}' "
                    "FROM tasks t, users u WHERE u.name = 'owner'"
                )
            )
        with (
            pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
            engine.begin() as conn,
        ):
            conn.execute(sa.text("DELETE FROM events"))
    finally:
        engine.dispose()


def test_the_cli_sets_up_roles(fresh_db: str) -> None:
    from typer.testing import CliRunner

    from annolab.cli import app

    runner = CliRunner()
    setup = runner.invoke(app, ["team-setup", "--url", fresh_db])
    assert setup.exit_code == 0, setup.output
    name = f"dana_{uuid.uuid4().hex[:6]}"
    made = runner.invoke(app, ["team-user", name, "--lead", "--url", fresh_db])
    assert made.output.strip() == f"login role {name!r} is in annolab_lead"
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        member = conn.execute(
            sa.text("SELECT pg_has_role(:n, 'annolab_annotator', 'MEMBER')"), {"n": name}
        ).scalar_one()
    engine.dispose()
    assert member is True


def test_the_cli_makes_an_annotator_a_member_of_projects(fresh_db: str) -> None:
    from typer.testing import CliRunner

    from annolab.cli import app

    with al.connect(fresh_db, user="owner") as admin:
        admin.create_project("news", labels=["pos", "neg"], layout="classify")
        admin.create_project("other", labels=["pos", "neg"], layout="classify")
    runner = CliRunner()
    assert runner.invoke(app, ["team-setup", "--url", fresh_db]).exit_code == 0
    name = f"erin_{uuid.uuid4().hex[:6]}"
    made = runner.invoke(app, ["team-user", name, "--project", "news", "--url", fresh_db])
    assert made.output.splitlines() == [
        f"login role {name!r} is in annolab_annotator",
        f"{name!r} works on 'news'",
    ]
    with al.connect(_as(fresh_db, name), user=name) as ws:
        assert ws.projects()["name"].to_list() == ["news"]
    unknown = runner.invoke(app, ["team-user", name, "--project", "nope", "--url", fresh_db])
    assert unknown.exit_code == 1
    assert "project='nope' does not exist; create it before adding members" in unknown.output


def test_setting_up_again_takes_back_what_an_older_set_up_granted(
    fresh_db: str, team: tuple[str, al.Project]
) -> None:
    suffix, _ = team
    owner = sa.create_engine(fresh_db)
    with owner.begin() as conn:  # what annolab granted annotators before 0008
        conn.execute(
            sa.text(
                "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO annolab_annotator"
            )
        )
    setup_team_roles(owner)
    owner.dispose()
    engine = sa.create_engine(_as(fresh_db, f"bob_{suffix}"))
    try:
        with (
            pytest.raises(sa.exc.ProgrammingError, match="permission denied for table users"),
            engine.begin() as conn,
        ):
            conn.execute(sa.text("UPDATE users SET roles = '{project_admin}'"))
    finally:
        engine.dispose()
