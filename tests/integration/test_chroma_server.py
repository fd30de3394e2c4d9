"""The vectors on a real Chroma server (`chroma run` from the chromadb package, on 127.0.0.1):
what several `serve` replicas share instead of one embedded ChromaDB folder each."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import chromadb
import httpx
import pytest
from sqlalchemy import create_engine

from assistant.runtime import Runtime
from assistant.search.cards import Card, load_cards
from assistant.search.fakes import HashEmbedder
from assistant.search.index import IndexBuilder, current_generation
from assistant.search.retrieval import HybridRetriever
from assistant.settings import Settings

START_TIMEOUT = 30.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The console script sits beside this interpreter (the venv may not be on PATH).
    beside = Path(sys.executable).parent / "chroma"
    binary = str(beside) if beside.exists() else shutil.which("chroma")
    if binary is None:
        pytest.fail("the `chroma` command of the chromadb package is missing")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [binary, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Chroma server did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def cards() -> list[Card]:
    wanted = ("dla-dispositif-local-accompagnement", "agrement-esus", "fabrique-a-initiatives")
    return [c for c in load_cards(Settings().cards_dir) if c.id in wanted]


def test_an_index_on_the_server_serves_several_readers(
    tmp_path: Path, chroma_url: str, cards: list[Card]
) -> None:
    embedder = HashEmbedder()
    builder = IndexBuilder(tmp_path, embedder, chroma_url)
    first = builder.build(cards)
    generation = current_generation(tmp_path)
    assert generation is not None
    assert not (generation / "chroma").exists() or not any((generation / "chroma").iterdir())
    server = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_url.rsplit(":", 1)[1]))
    assert f"aiguillage-{first.generation}" in [c.name for c in server.list_collections()]

    # Two readers, as two replicas would open it, get the same answers.
    readers = [HybridRetriever.open(tmp_path, embedder, chroma_url=chroma_url) for _ in range(2)]
    answers = [[h.card_id for h in r.search("DLA emplois", k=3)] for r in readers]
    assert answers[0] == answers[1] and answers[0][0] == "dla-dispositif-local-accompagnement"

    # A new generation copies the live vectors, adds the change, and is published; readers of
    # the old one see it is not current any more; old generations' collections are dropped.
    edited = [c.model_copy(update={"body": c.body + " Nouvelle phrase."}) for c in cards[:1]]
    second = builder.build(edited + cards[1:])
    assert second.changed and second.chunks_embedded < second.chunks_total
    assert not readers[0].is_current(tmp_path)
    fresh = HybridRetriever.open(tmp_path, embedder, chroma_url=chroma_url)
    assert fresh.search("DLA emplois", k=1)[0].card_id == "dla-dispositif-local-accompagnement"
    third = builder.build(cards)
    names = {c.name for c in server.list_collections()}
    assert f"aiguillage-{third.generation}" in names
    assert f"aiguillage-{first.generation}" not in names  # pruned with its generation


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


@pytest.mark.timeout(300)
def test_serve_with_two_workers_over_the_chroma_server(
    tmp_path: Path, chroma_url: str, runtime: Runtime
) -> None:
    # The vector cache of the test index: the server's collection is written without a model run.
    (tmp_path / "index").mkdir()
    shutil.copy(runtime.settings.index_dir / "embeddings.sqlite3", tmp_path / "index")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")},
        "AIGUILLAGE_DATA_DIR": str(tmp_path),
        "AIGUILLAGE_CHROMA_URL": chroma_url,
        "AIGUILLAGE_RATE_LIMIT": "",
    }
    port = _free_port()
    cli = [sys.executable, "-m", "connectors.cli.main"]
    alone = subprocess.run(
        [*cli, "serve", "--workers", "2", "--port", str(port)],
        env={**env, "AIGUILLAGE_CHROMA_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert alone.returncode == 2 and "AIGUILLAGE_CHROMA_URL" in alone.stderr
    server = subprocess.Popen(
        [*cli, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "serve --workers 2 exited"
            assert time.monotonic() < deadline, "serve --workers 2 did not answer"
            time.sleep(0.5)
        assert len(_children(server.pid)) >= 2  # the worker processes
        with httpx.Client(base_url=base, timeout=60) as client:
            session = client.post("/api/sessions").json()["session_id"]
            texts = ["Je monte une recyclerie à Tulle", "association", "financement"]
            for text in texts * 2:
                reply = client.post(f"/api/sessions/{session}/messages", json={"text": text})
                assert reply.status_code == 200
            for _ in range(6):
                answer = client.post("/api/ask", json={"text": "C'est quoi le DLA ?"})
                assert answer.status_code == 200 and not answer.json()["declined"]
            assert client.get(f"/api/sessions/{session}").json()["state"]["departement"] == "19"
    finally:
        _stop(server)


POSTGRES_URL = os.environ.get("AIGUILLAGE_TEST_POSTGRES_URL")
SESSIONS, TURNS = 8, 12


def _wait_healthy(base: str, process: subprocess.Popen[bytes], seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, f"{base} exited"
        assert time.monotonic() < deadline, f"{base} did not answer"
        time.sleep(0.5)


@pytest.mark.timeout(420)
def test_two_replicas_one_killed_under_load_lose_nothing(
    tmp_path: Path, chroma_url: str, runtime: Runtime
) -> None:
    if not POSTGRES_URL:
        pytest.skip('AIGUILLAGE_TEST_POSTGRES_URL is not set; run `eval "$(bash .ci/postgres.sh)"`')
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:  # a clean database: every session below is ours
        conn.exec_driver_sql("DROP TABLE IF EXISTS messages, sessions, claims")
    engine.dispose()
    (tmp_path / "index").mkdir()
    shutil.copy(runtime.settings.index_dir / "embeddings.sqlite3", tmp_path / "index")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")},
        "AIGUILLAGE_DATA_DIR": str(tmp_path),
        "AIGUILLAGE_CHROMA_URL": chroma_url,
        "AIGUILLAGE_DATABASE_URL": POSTGRES_URL,
        "AIGUILLAGE_RATE_LIMIT": "",
    }
    cli = [sys.executable, "-m", "connectors.cli.main"]
    built = subprocess.run([*cli, "index"], env=env, capture_output=True, timeout=300)
    assert built.returncode == 0, built.stderr
    ports = [_free_port(), _free_port()]
    replicas = [
        subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    acknowledged: dict[str, int] = {}
    statuses: list[int] = []
    try:
        for base, replica in zip(bases, replicas, strict=True):
            _wait_healthy(base, replica)
        texts = ["Je monte une recyclerie à Tulle", "association", "financement", "et le DLA ?"]
        with httpx.Client(timeout=60) as client:
            sessions = [
                client.post(f"{bases[0]}/api/sessions").json()["session_id"]
                for _ in range(SESSIONS)
            ]
        acknowledged = dict.fromkeys(sessions, 0)
        lock = threading.Lock()

        def converse(number: int, session: str) -> None:
            with httpx.Client(timeout=60) as client:
                for turn in range(TURNS):
                    # Turns alternate between the replicas, as a proxy spreads them. The
                    # client names each message (Idempotency-Key), so a POST whose connection
                    # broke, even after the dead replica stored it, is safely sent again to
                    # the other one; a 5xx is kept, and fails the test.
                    order = bases if (turn + number) % 2 == 0 else bases[::-1]
                    for base in order:
                        try:
                            reply = client.post(
                                f"{base}/api/sessions/{session}/messages",
                                json={"text": texts[turn % len(texts)]},
                                headers={"Idempotency-Key": f"turn-{turn}"},
                            )
                        except httpx.TransportError:
                            continue
                        with lock:
                            statuses.append(reply.status_code)
                            if reply.status_code == 200:
                                acknowledged[session] += 1
                        break

        threads = [
            threading.Thread(target=converse, args=(n, session), daemon=True)
            for n, session in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(statuses) < SESSIONS * TURNS // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        replicas[1].kill()  # SIGKILL, while the sessions are talking
        replicas[1].wait(timeout=10)
        for thread in threads:
            thread.join(timeout=180)
        with httpx.Client(timeout=60) as client:
            for session, count in acknowledged.items():
                record = client.get(f"{bases[0]}/api/sessions/{session}").json()
                users = [e["text"] for e in record["transcript"] if e["role"] == "user"]
                # every turn is there, once, in order: none lost, none stored twice
                assert count == TURNS, (session, count)
                assert users == [texts[t % len(texts)] for t in range(TURNS)], (session, users)
    finally:
        for replica in replicas:
            _stop(replica)
    assert statuses and all(status < 500 for status in statuses), statuses
    assert sum(acknowledged.values()) == SESSIONS * TURNS
