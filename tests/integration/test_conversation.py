"""Conversation over a real SQLite session store, the fiche, `aiguillage chat` and scenarios."""

from __future__ import annotations

import datetime as dt
import glob
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from assistant.dialogue.conversation import Conversation
from assistant.dialogue.scenarios import Expectation, check, load_scenario, run_all, run_scenario
from assistant.dialogue.state import DiagnosticState
from assistant.errors import ScenarioError, SessionNotFoundError
from assistant.runtime import Runtime
from assistant.sessions.store import SqlSessionStore
from assistant.settings import REPO_ROOT, Settings
from connectors.cli.main import app

SCENARIOS = REPO_ROOT / "tests" / "scenarios"
GUERET = "Bonjour, je préside une asso à Guéret, on a 4 salariés"
GUERET_2 = "On galère avec la trésorerie, on voudrait pérenniser les postes"


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sessions.sqlite3"


@pytest.fixture()
def store(db_path: Path) -> Iterator[SqlSessionStore]:
    store = SqlSessionStore(f"sqlite:///{db_path}")
    yield store
    store.close()


@pytest.fixture()
def conversation(runtime: Runtime, store: SqlSessionStore) -> Conversation:
    return Conversation(runtime.engine, store, runtime.fiche_builder, retention_days=90)


def _rows(db_path: Path, session_id: str) -> tuple[int, int]:
    """Raw SQL: (sessions rows, messages rows) for one session id."""
    with sqlite3.connect(db_path) as db:
        sessions = db.execute("SELECT COUNT(*) FROM sessions WHERE id = ?", (session_id,))
        n_sessions = sessions.fetchone()[0]
        messages = db.execute("SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,))
        return n_sessions, messages.fetchone()[0]


def test_start_greets_and_creates_a_session(conversation: Conversation, db_path: Path) -> None:
    session_id, greeting = conversation.start()
    assert greeting.action == "start"
    assert _rows(db_path, session_id) == (1, 0)


def test_a_turn_is_persisted(conversation: Conversation, db_path: Path) -> None:
    session_id, _ = conversation.start()
    result = conversation.send(session_id, GUERET)
    assert result.state.departement == "23"

    other = SqlSessionStore(f"sqlite:///{db_path}")  # a new store object: what is on disk
    try:
        record = other.get(session_id)
    finally:
        other.close()
    assert record.state == result.state
    assert [(e.role, e.text) for e in record.transcript] == [
        ("user", GUERET),
        ("assistant", result.reply),
    ]
    meta = record.transcript[1].meta
    assert meta is not None
    assert meta["contacts"] == [c.id for c in result.contacts]
    assert meta["sources"] == [s.id for s in result.sources]
    assert _rows(db_path, session_id) == (1, 2)


def test_conversation_resumes_from_the_store(
    runtime: Runtime, conversation: Conversation, db_path: Path
) -> None:
    session_id, _ = conversation.start()
    conversation.send(session_id, "je suis à Guéret")
    # Another process, days later: a fresh store and conversation on the same file.
    store = SqlSessionStore(f"sqlite:///{db_path}")
    try:
        later = Conversation(runtime.engine, store, runtime.fiche_builder, 90)
        resumed = later.resume(session_id)
        assert resumed.reply.startswith(runtime.script.messages.resume)
        result = later.send(session_id, "Une association")
        assert (result.state.departement, result.state.profile) == ("23", "association")
        assert len(store.get(session_id).transcript) == 4
    finally:
        store.close()


def test_oubli_deletes_everything(conversation: Conversation, db_path: Path) -> None:
    kept_id, _ = conversation.start()
    conversation.send(kept_id, "je suis à Tulle")
    session_id, _ = conversation.start()
    conversation.send(session_id, GUERET)
    conversation.send(session_id, GUERET_2)
    assert _rows(db_path, session_id) == (1, 4)

    result = conversation.send(session_id, "oubli")
    assert result.action == "forget"
    assert _rows(db_path, session_id) == (0, 0)
    with pytest.raises(SessionNotFoundError):
        conversation.get(session_id)
    assert _rows(db_path, kept_id) == (1, 2)  # only that session is erased


def test_forget_method(conversation: Conversation, db_path: Path) -> None:
    session_id, _ = conversation.start()
    conversation.send(session_id, GUERET)
    assert conversation.forget(session_id) is True
    assert _rows(db_path, session_id) == (0, 0)
    assert conversation.forget(session_id) is False


def test_recommencer_clears_state_and_transcript(conversation: Conversation, db_path: Path) -> None:
    session_id, _ = conversation.start()
    conversation.send(session_id, GUERET)
    result = conversation.send(session_id, "recommencer")
    assert result.action == "restart"
    record = conversation.get(session_id)
    assert record.state == DiagnosticState()
    assert record.transcript == []
    assert _rows(db_path, session_id) == (1, 0)


def test_retention_purge_removes_old_sessions_only(
    conversation: Conversation, store: SqlSessionStore, db_path: Path
) -> None:
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    old = store.create(now=now - dt.timedelta(days=120))
    store.save_turn(old.id, "ancien", "réponse", DiagnosticState(), now=now - dt.timedelta(days=91))
    recent = store.create(now=now - dt.timedelta(days=200))
    store.save_turn(
        recent.id, "récent", "réponse", DiagnosticState(), now=now - dt.timedelta(days=89)
    )
    fresh = store.create(now=now)

    assert conversation.purge_expired(now=now) == 1
    assert _rows(db_path, old.id) == (0, 0)
    assert _rows(db_path, recent.id) == (1, 2)  # activity within 90 days keeps it
    assert _rows(db_path, fresh.id) == (1, 0)
    assert conversation.purge_expired(now=now) == 0


def test_unknown_session(conversation: Conversation) -> None:
    with pytest.raises(SessionNotFoundError):
        conversation.send("no-such-session", "bonjour")


def test_open_creates_a_channel_session_once(conversation: Conversation) -> None:
    greeting, created = conversation.open("telegram-42")
    assert created and greeting.action == "start"
    conversation.send("telegram-42", "je suis à Guéret")
    _, created_again = conversation.open("telegram-42")
    assert not created_again


# -- the fiche ------------------------------------------------------------------------------


def test_fiche_markdown_and_html(conversation: Conversation, runtime: Runtime) -> None:
    session_id, _ = conversation.start()
    conversation.send(session_id, GUERET)
    result = conversation.send(session_id, GUERET_2)
    assert result.contacts
    state = conversation.get(session_id).state
    assert state.summary

    fiche = conversation.fiche(session_id)
    orientation = conversation.orientation(session_id)
    for text in (fiche.markdown, fiche.html):
        assert state.summary.split(",")[0] in text
        assert "Guéret" in text and "Creuse (23)" in text and "Nouvelle-Aquitaine" in text
        assert "Association employeuse" in text
        assert "Financement" in text
        for contact in orientation.contacts:
            assert contact.name.replace("'", "&#39;") in text or contact.name in text
        assert orientation.next_steps
        for step in orientation.next_steps:
            assert step.text.replace("'", "&#39;") in text or step.text in text
    assert fiche.markdown.startswith("# Fiche de synthèse")
    assert fiche.html.lstrip().startswith("<!doctype html>")


def test_fiche_html_escapes_user_text(conversation: Conversation) -> None:
    session_id, _ = conversation.start()
    conversation.send(
        session_id,
        "<script>alert('x')</script> on veut ouvrir une épicerie solidaire à Guéret entre voisins",
    )
    state = conversation.get(session_id).state
    assert state.summary and "<script>" in state.summary
    html = conversation.fiche(session_id).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert('x')</script>" in conversation.fiche(session_id).markdown


def test_fiche_of_an_empty_session(conversation: Conversation) -> None:
    session_id, _ = conversation.start()
    fiche = conversation.fiche(session_id)
    assert "Pas encore de description du projet" in fiche.markdown
    assert "non précisé" in fiche.markdown
    assert "Pas encore de description du projet" in fiche.html


# -- aiguillage chat ------------------------------------------------------------------------


@pytest.fixture()
def cli_env(runtime: Runtime, settings: Settings, db_path: Path) -> dict[str, str]:
    return {
        "AIGUILLAGE_DATA_DIR": str(settings.data_dir),
        "AIGUILLAGE_DATABASE_URL": f"sqlite:///{db_path}",
    }


def test_chat_with_piped_stdin(cli_env: dict[str, str], db_path: Path) -> None:
    result = CliRunner().invoke(app, ["chat"], input=f"{GUERET}\n{GUERET_2}\n", env=cli_env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Bonjour, je suis Aiguillage" in out
    assert "DLA de la Creuse" in out
    assert "Comment le joindre" in out
    assert out.rstrip().endswith("À bientôt !")
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 4


def test_chat_numbers_pick_quick_replies_and_fiche_prints(cli_env: dict[str, str]) -> None:
    # "3" picks the third quick reply of the profile question: "Une association".
    turns = "je suis à Guéret\n3\nfiche\n"
    result = CliRunner().invoke(app, ["chat"], input=turns, env=cli_env)
    assert result.exit_code == 0, result.output
    assert "C'est noté : association" in result.stdout
    assert "# Fiche de synthèse Aiguillage" in result.stdout
    assert "Guéret" in result.stdout


def test_chat_oubli_ends_the_session(cli_env: dict[str, str], db_path: Path) -> None:
    result = CliRunner().invoke(app, ["chat"], input=f"{GUERET}\noubli\nencore\n", env=cli_env)
    assert result.exit_code == 0, result.output
    assert "Toutes vos données ont été effacées" in result.stdout
    assert "À bientôt" not in result.stdout  # it stopped right after the erasure
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


# -- scenarios --------------------------------------------------------------------------------


def test_scenarios_run_json_contract(cli_env: dict[str, str]) -> None:
    paths = sorted(glob.glob(str(SCENARIOS / "01-*.yaml")))
    assert len(paths) == 1
    result = CliRunner().invoke(app, ["scenarios", "run", *paths, "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"passed", "failed", "scenarios"}
    assert (payload["passed"], payload["failed"]) == (1, 0)
    (scenario,) = payload["scenarios"]
    assert set(scenario) >= {"name", "passed", "failures", "state", "contacts"}
    assert scenario["name"] == load_scenario(Path(paths[0])).name
    assert scenario["passed"] is True and scenario["failures"] == []
    state = scenario["state"]
    assert set(state) >= {"stage", "profile", "needs", "departement", "region"}
    assert (state["departement"], state["region"]) == ("23", "75")
    assert state["profile"] == "association-employeuse"
    assert scenario["contacts"]
    for contact in scenario["contacts"]:
        assert set(contact) >= {"id", "name", "kind"}
    assert "dla" in {c["kind"] for c in scenario["contacts"]}


def _write_scenario(path: Path, **changes: object) -> Path:
    data = yaml.safe_load((SCENARIOS / "01-asso-employeuse-gueret.yaml").read_text("utf-8"))
    for key, value in changes.items():
        data["expect"][key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_wrong_expectation_fails_with_exit_1(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = _write_scenario(tmp_path / "wrong.yaml", departement="87", contacts_exclude_kinds=["dla"])
    result = CliRunner().invoke(app, ["scenarios", "run", str(bad), "--json"], env=cli_env)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert (payload["passed"], payload["failed"]) == (0, 1)
    failures = payload["scenarios"][0]["failures"]
    assert any("departement" in f and "'87'" in f and "'23'" in f for f in failures)
    assert any("dla" in f for f in failures)

    plain = CliRunner().invoke(app, ["scenarios", "run", str(bad)], env=cli_env)
    assert plain.exit_code == 1
    assert "ÉCHEC" in plain.stdout
    assert "departement: expected '87', got '23'" in plain.stdout
    assert "0 passed, 1 failed" in plain.stdout


def test_a_folder_with_one_failing_scenario_fails(cli_env: dict[str, str], tmp_path: Path) -> None:
    _write_scenario(tmp_path / "a-good.yaml")
    _write_scenario(tmp_path / "b-bad.yaml", stage="emergence")
    result = CliRunner().invoke(app, ["scenarios", "run", str(tmp_path), "--json"], env=cli_env)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert (payload["passed"], payload["failed"]) == (1, 1)
    assert [s["passed"] for s in payload["scenarios"]] == [True, False]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: x\nturns: []\n", "turns"),
        ("name: x\nturns: [bonjour]\nexpect: {departement: 23}\n", "quoted string"),
        ("name: x\nturns: [bonjour]\nexpect: {stage: incubation}\n", "stage"),
        ("name: x\nturns: [bonjour]\nexpected: {}\n", "expected"),
        ("- just\n- a list\n", "mapping"),
        ("name: [unclosed\n", "cannot read"),
    ],
)
def test_invalid_scenario_file(
    cli_env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "invalid.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)
    result = CliRunner().invoke(app, ["scenarios", "run", str(path)], env=cli_env)
    assert result.exit_code == 2
    assert "invalid.yaml" in result.output
    assert "Traceback" not in result.output


def test_missing_scenario_path(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scenarios", "run", str(tmp_path / "nope.yaml")], env=cli_env)
    assert result.exit_code == 2
    assert "nope.yaml" in result.output


def test_run_scenario_and_check(runtime: Runtime) -> None:
    scenario = load_scenario(SCENARIOS / "01-asso-employeuse-gueret.yaml")
    result = run_scenario(runtime.engine, scenario)
    assert result.passed, result.failures
    assert len(result.transcript) == len(scenario.turns)
    report = run_all(runtime.engine, [SCENARIOS / "01-asso-employeuse-gueret.yaml"])
    assert (report.passed, report.failed) == (1, 0)

    state = DiagnosticState(stage="creation", profile="collectif", needs=["local"])
    expect = Expectation(
        stage="emergence",
        profile="collectif",
        needs_include=["local", "financement"],
        departement="23",
        contacts_include_kinds=["cress"],
        contacts_exclude_kinds=["dla"],
    )
    failures = check(expect, state, ["dla", "incubateur"])
    assert len(failures) == 5
    assert "stage: expected 'emergence', got 'creation'" in failures
    assert check(Expectation(profile="collectif", needs_include=["local"]), state, []) == []


def test_unanswered_questions_are_listed_for_curators_and_erased_with_the_session(
    runtime: Runtime,
) -> None:
    conversation = runtime.conversation
    session_id, _ = conversation.start()
    question = "Quelle est la recette de la blanquette de veau ?"
    turn = conversation.send(session_id, question)
    assert turn.declined
    answered = conversation.send(session_id, "C'est quoi le DLA ?")
    assert not answered.declined
    listed = [e.text for e in conversation.unanswered(limit=500)]
    assert question in listed
    assert "C'est quoi le DLA ?" not in listed
    conversation.forget(session_id)
    assert question not in [e.text for e in conversation.unanswered(limit=500)]
