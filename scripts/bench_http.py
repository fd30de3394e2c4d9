"""Benchmark the web connector over real HTTP: conversation turns against a bare endpoint.

Usage:
    python scripts/bench_http.py [--sessions 50,200] [--workers 1,2] [--rounds R]
                                 [--solo-rounds R] [--max-seconds S] [--data-dir DIR]
                                 [--no-replicas] [--json]

Prints figures only; nothing here asserts a time (the exit status is 1 when a request failed).
The real app runs under uvicorn on 127.0.0.1 in child processes (so the client's work does not
share the server's interpreter), each with its own temporary session database (SQLite, WAL).

1. The default deployment: one process, ChromaDB embedded in the index of --data-dir (default
   var/test-data, the test suite's; built there first if absent). At 1 session, back to back:
   - echo (baseline): ``POST /api/echo``, the same app and middlewares, body parsed and checked
     as a turn's is, no core work: 3 requests per round, the three messages below;
   - diagnostic turn: ``POST /api/sessions/{id}/messages``: each round creates a session (not
     timed) then sends the three messages of an employing association in Guéret (the last one
     is oriented);
   - question turn: the same endpoint, each round a fresh session asked three free questions
     answered from the cards ("c'est quoi une Scic ?"…).
2. The replicas' deployment, once per --workers count: ``serve --workers N`` (uvicorn's own
   worker processes, each app from the environment) over a ``chroma run`` server on 127.0.0.1
   (the chromadb package's) holding a copy of the index built in a temporary data directory,
   the sessions in one SQLite file shared by the workers. At each --sessions level: echo, then
   diagnostic turns, by that many concurrent sessions (one keep-alive connection each).
   ``--no-replicas`` skips this part (the test suite's smoke run does).

Per phase: per-request latency p50/p95, throughput (timed requests per second of the phase's
wall time, which for turns includes the session creations), errors, and the CPU time per request
of the server processes and of this client (they share the machine). Then the ratios the issue
sets goals for: diagnostic / echo p95, the question turn's p95, 2 workers / 1 worker turns/s,
errors at the highest level, resident memory (RSS) per worker.

Load is bounded in count (--sessions <= 200, --rounds <= 20) and in time: the measurement
stops starting rounds at --max-seconds (shared out between the phases still to run) and each
request has a timeout; server start-up (and an index build, if needed) is bounded apart. Every
server (and the Chroma server) is stopped on every exit path, and stops itself if this process
goes away or when its lifetime is over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from benchlib import load  # scripts/ is on sys.path when run

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "var" / "test-data"
GUERET = (
    "Bonjour, je suis presidente d'une asso a Gueret, on a 4 salariés (animation + accueil)",
    "on galere avec la tresorerie, les subventions arrivent toujours en retard",
    "on voudrait surtout pérenniser les postes, 2 sont en PEC qui finissent en juin",
)
# Free questions the cards answer (a fresh session each round: no territory, no filter).
QUESTIONS = (
    "c'est quoi une Scic ?",
    "c'est quoi l'agrément ESUS ?",
    "c'est quoi le DLA ?",
)
MAX_SESSIONS = 200
MAX_ROUNDS = 20
MAX_WORKERS = 4
START_TIMEOUT_S = 900.0  # an index build from scratch embeds every passage (minutes)
CHROMA_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
# Plain HTTP needs none, but httpx builds a TLS context per client unless given one (slow).
TLS = ssl.create_default_context()
PR_SET_PDEATHSIG = 1  # prctl(2): the kernel signals the child when its parent dies


# --------------------------------------------------------------------------- the servers


def die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the benchmark process goes away (Linux)."""
    # Not Linux: the lifetime bound still applies.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(args: argparse.Namespace) -> int:
    """Child process: build the index if needed, then serve the app on 127.0.0.1.

    Its files (session database, port) live in the parent's temporary directory, which the
    parent removes: uvicorn re-raises SIGTERM once shut down, so no cleanup runs here."""
    import uvicorn

    from assistant.runtime import Runtime
    from assistant.search.cards import load_cards
    from assistant.search.embeddings import share_cores
    from assistant.search.index import IndexBuilder, current_generation
    from assistant.settings import Settings
    from connectors.web.app import create_app

    tmp = Path(args.tmp)
    parent = os.getppid()
    started = time.monotonic()

    def watchdog() -> None:
        # An orphaned or overdue server must not outlive the benchmark.
        while os.getppid() == parent and time.monotonic() - started < args.lifetime:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watchdog, daemon=True).start()
    # All the load comes from one address: the flood limit would measure itself, not the turn.
    env = {
        "AIGUILLAGE_DATA_DIR": str(Path(args.data_dir).resolve()),
        "AIGUILLAGE_DATABASE_URL": f"sqlite:///{tmp}/sessions.sqlite3",
        "AIGUILLAGE_RATE_LIMIT": "",
        "AIGUILLAGE_CHROMA_URL": args.chroma_url or "",
    }
    os.environ.update(env)  # the workers' apps read their settings from the environment
    settings = Settings()
    runtime = Runtime(settings)
    if current_generation(settings.index_dir) is None:
        builder = IndexBuilder(settings.index_dir, runtime.embedder, settings.chroma_url)
        builder.build(load_cards(settings.cards_dir))
    runtime.store.count()  # the session tables exist before several workers open them
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0 if args.workers == 1 else free_port()))
    port = sock.getsockname()[1]
    app = create_app(runtime) if args.workers == 1 else None
    if app is None:
        sock.close()  # uvicorn's supervisor binds it again and hands it to its workers
    # Written atomically: the parent reads a complete port or nothing.
    (tmp / "port.tmp").write_text(str(port))
    (tmp / "port.tmp").rename(tmp / "port")
    if app is not None:
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])
    else:
        share_cores(args.workers)
        uvicorn.run(
            "connectors.web.app:app_from_environment",
            factory=True,
            workers=args.workers,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    return 0


class Server:
    """The child process serving the app; `url` once it answers /healthz."""

    def __init__(
        self, data_dir: Path, lifetime: float, tmp: Path, workers: int, chroma_url: str | None
    ) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.port_file = tmp / "port"
        self.workers = workers
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve",
                *("--data-dir", str(data_dir), "--tmp", str(tmp)),
                *("--lifetime", str(lifetime), "--serve-workers", str(workers)),
                *(("--chroma-url", chroma_url) if chroma_url else ()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,  # our stdout may be the JSON document
            cwd=REPO_ROOT,
            preexec_fn=die_with_parent,
        )
        self.url = ""

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}")
            if self.port_file.exists():
                url = f"http://127.0.0.1:{self.port_file.read_text().strip()}"
                try:
                    healthy = httpx.get(f"{url}/healthz", timeout=30).status_code == 200
                except httpx.TransportError:
                    healthy = False
                # Several workers: every one of them must be up, not only the first.
                if healthy and len(self.worker_pids()) >= self.workers:
                    self.url = url
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: this one alone, or uvicorn's workers."""
        if self.workers == 1:
            return [self.process.pid]
        return [
            pid
            for pid in children(self.process.pid)
            if "resource_tracker" not in cmdline(pid)  # multiprocessing's helper
        ]

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # uvicorn and chroma shut down gracefully on SIGTERM
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc; empty elsewhere)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return sorted(found)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class ChromaServer:
    """`chroma run` (the chromadb package's server) on 127.0.0.1, for the replicas."""

    def __init__(self, folder: Path, lifetime: float) -> None:
        beside = Path(sys.executable).parent / "chroma"  # the venv may not be on PATH
        binary = str(beside) if beside.exists() else shutil.which("chroma")
        if binary is None:
            raise RuntimeError("the `chroma` command of the chromadb package is missing")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # `timeout` bounds its life; the parent-death signal ends it with this process.
        self.process = subprocess.Popen(
            [
                "timeout",
                *("-k", "5", str(int(lifetime))),
                binary,
                "run",
                *("--path", str(folder), "--host", "127.0.0.1", "--port", str(self.port)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with status {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"chroma run did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        stop(self.process)


# --------------------------------------------------------------------------- the load


@dataclass
class Phase:
    name: str  # echo, diagnostic or question
    concurrency: int
    rounds: int
    latencies: list[float] = field(default_factory=list)
    requests: int = 0  # every request, untimed ones included (throughput counts them all)
    errors: list[str] = field(default_factory=list)
    done: int = 0  # rounds that did the real work: oriented, or every question answered
    rounds_done: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None
    helpers_cpu: float | None = None  # the benchmark's other processes (supervisor, Chroma)
    machine_cpu: float | None = None  # every process on the machine, ours included
    stopped_early: bool = False


async def echo_session(client: httpx.AsyncClient, phase: Phase, deadline: float) -> None:
    for _ in range(phase.rounds):
        if time.monotonic() > deadline:
            phase.stopped_early = True
            return
        for text in GUERET:
            t0 = time.perf_counter()
            response = await client.post("/api/echo", json={"text": text})
            phase.latencies.append(time.perf_counter() - t0)
            phase.requests += 1
            if response.status_code != 200 or response.json() != {"text": text}:
                phase.errors.append(f"echo: HTTP {response.status_code}")
        phase.rounds_done += 1


def answered(body: dict[str, Any]) -> bool:
    """The turn answered from the cards (an `answer` part, not declined)."""
    return any(
        part.get("type") == "answer" and not part.get("declined") for part in body.get("parts", [])
    )


async def turn_session(client: httpx.AsyncClient, phase: Phase, deadline: float) -> None:
    texts = QUESTIONS if phase.name == "question" else GUERET
    for _ in range(phase.rounds):
        if time.monotonic() > deadline:
            phase.stopped_early = True
            return
        created = await client.post("/api/sessions")
        phase.requests += 1
        if created.status_code != 201:
            phase.errors.append(f"create: HTTP {created.status_code}")
            continue
        path = f"/api/sessions/{created.json()['session_id']}/messages"
        bodies: list[dict[str, Any]] = []
        for text in texts:
            t0 = time.perf_counter()
            response = await client.post(path, json={"text": text})
            phase.latencies.append(time.perf_counter() - t0)
            phase.requests += 1
            if response.status_code != 200:
                phase.errors.append(f"{phase.name}: HTTP {response.status_code}")
                break
            bodies.append(response.json())
        # A sanity check that the turns did the real work.
        if phase.name == "question":
            phase.done += len(bodies) == len(texts) and all(answered(b) for b in bodies)
        else:
            phase.done += bool(bodies and bodies[-1].get("contacts"))
        phase.rounds_done += 1


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a live process has used; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def servers_cpu(pids: Sequence[int]) -> float | None:
    values = [cpu_seconds(pid) for pid in pids]
    return None if any(v is None for v in values) else sum(v or 0.0 for v in values)


def machine_cpu() -> float | None:
    """CPU seconds the whole machine has been busy (every process, every core), from
    /proc/stat; None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


class CpuAccount:
    """Who used the machine's cores during a phase: the serving workers, the benchmark's other
    processes (uvicorn's supervisor, the Chroma server), this client, and everything else on
    the machine (other users' jobs), so that a throughput is read against the CPU it got."""

    def __init__(self, workers: Sequence[int]) -> None:
        self.workers = list(workers)
        self.helpers = [p for p in descendants(os.getpid()) if p not in self.workers]
        self.start = self._sample()

    def _sample(self) -> tuple[float | None, float | None, float, float | None]:
        return (
            servers_cpu(self.workers),
            servers_cpu(self.helpers),
            time.process_time(),
            machine_cpu(),
        )

    def close(self, phase: Phase) -> None:
        end = self._sample()
        server0, helpers0, client0, machine0 = self.start
        server1, helpers1, client1, machine1 = end
        phase.client_cpu = client1 - client0
        if server0 is not None and server1 is not None:
            phase.server_cpu = server1 - server0
        if helpers0 is not None and helpers1 is not None:
            phase.helpers_cpu = helpers1 - helpers0
        if machine0 is not None and machine1 is not None:
            phase.machine_cpu = machine1 - machine0


async def run_phase(url: str, phase: Phase, deadline: float, pids: Sequence[int]) -> Phase:
    session = echo_session if phase.name == "echo" else turn_session
    timeout = httpx.Timeout(min(REQUEST_TIMEOUT_S, max(deadline - time.monotonic(), 1.0) + 5))
    # One client (one keep-alive connection) per session, as one browser per user. A single
    # shared client would measure itself: httpcore's pool scans every connection on every
    # event, so at 50 connections the client burnt more CPU than the server it measured.
    clients = [
        httpx.AsyncClient(
            base_url=url, timeout=timeout, verify=TLS, limits=httpx.Limits(max_connections=1)
        )
        for _ in range(phase.concurrency)
    ]
    results: list[BaseException | None] = []
    try:
        # Connections opened untimed (GET /api/echo): a browser keeps its connection open.
        opened = await asyncio.gather(
            *(client.get("/api/echo") for client in clients), return_exceptions=True
        )
        phase.errors.extend(
            f"connect: {type(o).__name__}" for o in opened if isinstance(o, BaseException)
        )
        account = CpuAccount(pids)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(session(client, phase, deadline) for client in clients),
            return_exceptions=True,
        )
        phase.wall = time.perf_counter() - started
        account.close(phase)
    finally:
        for client in clients:
            await client.aclose()
    for result in results:
        if isinstance(result, BaseException):
            phase.errors.append(f"{phase.name}: {type(result).__name__}")
    return phase


def stats(phase: Phase) -> dict[str, Any]:
    ms = np.asarray(phase.latencies, dtype=np.float64) * 1000.0
    p50, p95 = np.percentile(ms, [50, 95]) if ms.size else (0.0, 0.0)
    return {
        "concurrency": phase.concurrency,
        "rounds": phase.rounds_done,
        "n": int(ms.size),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "mean_ms": float(ms.mean()) if ms.size else 0.0,
        "requests": phase.requests,
        "wall_s": phase.wall,
        "throughput_rps": len(phase.latencies) / phase.wall if phase.wall else 0.0,
        # Both share the machine's CPUs: what the client takes, the server cannot use.
        "client_cpu_ms_per_req": 1000 * phase.client_cpu / max(phase.requests, 1),
        "server_cpu_ms_per_req": (
            1000 * phase.server_cpu / max(phase.requests, 1)
            if phase.server_cpu is not None
            else None
        ),
        # Cores used on average over the phase (CPU seconds per second of wall time).
        "cores": cores(phase),
        "errors": len(phase.errors),
        "error_kinds": sorted(set(phase.errors)),
        "rounds_done_right": phase.done,
        "stopped_early": phase.stopped_early,
    }


def cores(phase: Phase) -> dict[str, float | None]:
    def per_second(cpu: float | None) -> float | None:
        return cpu / phase.wall if cpu is not None and phase.wall else None

    used = {
        "workers": per_second(phase.server_cpu),
        "helpers": per_second(phase.helpers_cpu),
        "client": per_second(phase.client_cpu),
        "machine": per_second(phase.machine_cpu),
    }
    ours = [used["workers"], used["helpers"], used["client"]]
    machine = used["machine"]
    used["others"] = (
        max(machine - sum(v or 0.0 for v in ours), 0.0) if machine is not None else None
    )
    return used


PhasePlan = tuple[str, int, int]  # name, concurrency, rounds


async def measure(
    url: str,
    pids: Sequence[int],
    plan: Sequence[PhasePlan],
    end: float,
    out: Out,
) -> list[dict[str, Any]]:
    """The phases of `plan`, one after the other, each within its share of the time left."""
    started = time.monotonic()
    # Untimed warm-up, on every worker (connections are spread over them): the embedding
    # model, the index and the territories load on first use.
    warm_errors: list[str] = []
    # One session of each alone first: concurrent first questions to a fresh process race while the
    # index opens (a known fault of Runtime.retriever, reported apart), which is not measured
    # here; then 4 sessions per worker, so that every worker has loaded everything.
    warm_plan = (("question", 1), ("diagnostic", 1), ("diagnostic", 4 * len(pids)))
    for name, concurrency in (*warm_plan, ("question", 4 * len(pids))):
        warm = await run_phase(url, Phase(name, concurrency, 1), end, pids)
        warm_errors += warm.errors
    # Not timed, but counted: a user's first request to a fresh process can fail too.
    note = f", {len(warm_errors)} errors: {sorted(set(warm_errors))}" if warm_errors else ""
    out(f"  warm-up sessions (1, then 4 per worker): {time.monotonic() - started:.1f} s{note}")
    results: list[dict[str, Any]] = [{"name": "warm-up", "errors": len(warm_errors)}]
    for done, (name, concurrency, rounds) in enumerate(plan):
        # Each phase may use its share of what is left; echo phases leave most of theirs.
        share = (end - time.monotonic()) / (len(plan) - done)
        phase = await run_phase(
            url, Phase(name, concurrency, rounds), time.monotonic() + max(share, 0.0), pids
        )
        results.append(stats(phase))
        f = results[-1]
        out(
            f"  {name} @ {concurrency}: {f['n']} requests, p95 {f['p95_ms']:.1f} ms, "
            f"{f['throughput_rps']:.1f} req/s, {f['errors']} errors  [{load()}]"
        )
    return results


# --------------------------------------------------------------------------- the report


class Out:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, text: str = "") -> None:
        print(text, file=sys.stderr if self.as_json else sys.stdout, flush=True)


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


LABELS = {"echo": "echo (baseline)", "diagnostic": "diagnostic turn", "question": "question turn"}


def table(out: Out, title: str, phases: Sequence[dict[str, Any]]) -> None:
    out(f"\n{title}")
    out(
        f"  {'phase':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} "
        f"{'req/s':>8} {'errors':>6} {'CPU ms/req server':>17} {'client':>6}"
    )
    for f in phases:
        note = " [stopped at the time bound]" if f["stopped_early"] else ""
        server = f["server_cpu_ms_per_req"]
        label = f"{LABELS[f['name']]} @ {f['concurrency']} concurrent"
        out(
            f"  {label:<34} {f['n']:5d} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} "
            f"{f['mean_ms']:8.2f} {f['throughput_rps']:8.1f} {f['errors']:6d} "
            f"{'-' if server is None else f'{server:.2f}':>17} "
            f"{f['client_cpu_ms_per_req']:6.2f}{note}"
        )
        for kind in f["error_kinds"]:
            out(f"    error: {kind}")


def cpu_table(out: Out, phases: Sequence[dict[str, Any]]) -> None:
    """Where the machine's cores went during each phase (they are shared by everything)."""
    out(
        f"  cores used (of {os.cpu_count()}), mean over the phase: serving workers, the other "
        "benchmark processes (uvicorn supervisor, Chroma server), this load generator, and "
        "the rest of the machine (other jobs)"
    )
    out(f"  {'phase':<34} {'workers':>8} {'helpers':>8} {'client':>8} {'others':>8} {'total':>8}")

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for f in phases:
        c = f["cores"]
        label = f"{LABELS[f['name']]} @ {f['concurrency']} concurrent"
        out(
            f"  {label:<34} {show(c['workers']):>8} {show(c['helpers']):>8} "
            f"{show(c['client']):>8} {show(c['others']):>8} {show(c['machine']):>8}"
        )


def goals(figures: dict[str, Any], out: Out) -> dict[str, Any]:
    """The issue's goals, each with its figure from this run and whether it is met."""
    solo = {f["name"]: f for f in figures["solo"]}
    result: dict[str, Any] = {}

    def goal(key: str, text: str, value: float | None, met: bool | None) -> None:
        result[key] = {"value": value, "met": met}
        verdict = "not measured" if met is None else "met" if met else "NOT met"
        out(f"  {text:<66} {verdict}")

    diag = ratio(solo["diagnostic"]["p95_ms"], solo["echo"]["p95_ms"])
    goal(
        "diagnostic_p95_over_echo", f"diagnostic turn p95 <= 3x echo: x{diag:.1f}", diag, diag <= 3
    )
    question = solo["question"]["p95_ms"]
    goal(
        "question_p95_ms",
        f"question turn p95 <= 40 ms: {question:.1f} ms",
        question,
        question <= 40,
    )
    load_levels = figures["workers"]
    if "1" in load_levels and "2" in load_levels:
        for level in figures["session_levels"]:
            one = load_levels["1"]["levels"].get(str(level), {}).get("diagnostic")
            two = load_levels["2"]["levels"].get(str(level), {}).get("diagnostic")
            if one and two:
                x = ratio(two["throughput_rps"], one["throughput_rps"])
                goal(
                    f"workers_2_over_1_at_{level}",
                    f"2 workers >= 1.6x the turns/s of 1 at {level} sessions: x{x:.2f}",
                    x,
                    x >= 1.6,
                )
                out(
                    f"    cores the workers got: 1 worker {one['cores']['workers'] or 0:.2f}, "
                    f"2 workers {two['cores']['workers'] or 0:.2f}; with 2, the rest took "
                    f"{cores_left(two)}"
                )
    top = max(figures["session_levels"])
    errors = [
        f["errors"] for w in load_levels.values() for f in w["levels"].get(str(top), {}).values()
    ]
    if errors:
        goal(
            f"errors_at_{top}",
            f"{top} concurrent sessions, 0 errors: {sum(errors)}",
            sum(errors),
            sum(errors) == 0,
        )
    rss = [mb for entry in figures["rss_mb"].values() for mb in entry if mb is not None]
    worst = max(rss) if rss else None
    goal(
        "rss_mb_per_worker",
        f"RSS <= 500 MB per worker: at most {worst} MB",
        worst,
        None if worst is None else worst <= 500,
    )
    return result


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (VmRSS), in MB; None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- the run


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    started = time.perf_counter()
    data_dir = Path(args.data_dir).resolve()
    levels: list[int] = args.sessions
    figures: dict[str, Any] = {
        "session_levels": levels,
        "worker_counts": args.workers,
        "rounds": args.rounds,
        "solo_rounds": args.solo_rounds,
        "max_seconds": args.max_seconds,
        "data_dir": str(data_dir),
        "load_start": list(os.getloadavg()),
        "workers": {},
        "rss_mb": {},
        "warmup_errors": {},
        "servers": [],
    }
    out(
        f"Aiguillage HTTP benchmark: uvicorn on 127.0.0.1 (child processes), index in {data_dir}; "
        f"1 session x {args.solo_rounds} rounds (echo, diagnostic, question); then "
        f"{', '.join(map(str, levels))} concurrent sessions x {args.rounds} rounds with "
        f"{' and '.join(map(str, args.workers))} worker(s) over a Chroma server"
        f"{' (skipped: --no-replicas)' if args.no_replicas else ''}; 3 requests per round; "
        f"bound {args.max_seconds:.0f} s\n{load()}"
    )
    lifetime = START_TIMEOUT_S + args.max_seconds + 120
    end = time.monotonic() + args.max_seconds
    # The time bound is shared between the servers by their phases' count.
    plans: list[tuple[str, int, list[PhasePlan]]] = [
        (
            "embedded",
            1,
            [(n, 1, args.solo_rounds) for n in ("echo", "diagnostic", "question")],
        )
    ]
    for workers in [] if args.no_replicas else args.workers:
        plan: list[PhasePlan] = []
        for level in levels:
            plan += [("echo", level, args.rounds), ("diagnostic", level, args.rounds)]
        plans.append(("chroma", workers, plan))
    total_phases = sum(len(p) for _, _, p in plans)
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-http-") as tmp_name:
        tmp = Path(tmp_name)
        chroma: ChromaServer | None = None
        try:
            phases_left = total_phases
            for kind, workers, plan in plans:
                chroma_url = None
                server_data = data_dir
                if kind == "chroma":
                    if chroma is None:
                        chroma, server_data = start_chroma(tmp, data_dir, lifetime, out)
                    chroma_url, server_data = chroma.url, tmp / "replicas-data"
                name = f"{kind}-{workers}"
                label = (
                    "1 process, ChromaDB embedded"
                    if kind == "embedded"
                    else f"{workers} worker(s), Chroma server"
                )
                out(f"\n[{name}] {label}: starting ({load()})")
                server = Server(server_data, lifetime, tmp / name, workers, chroma_url)
                try:
                    t0 = time.perf_counter()
                    server.wait_ready(START_TIMEOUT_S)
                    startup = time.perf_counter() - t0
                    out(f"  ready in {startup:.1f} s")
                    pids = server.worker_pids()
                    share = (end - time.monotonic()) * len(plan) / phases_left
                    phases_left -= len(plan)
                    results = asyncio.run(
                        measure(server.url, pids, plan, time.monotonic() + share, out)
                    )
                    warm_up, results = results[0], results[1:]
                    figures["warmup_errors"][name] = warm_up["errors"]
                    for (phase_name, _, _), result in zip(plan, results, strict=True):
                        result["name"] = phase_name
                    figures["rss_mb"][name] = [rss_mb(pid) for pid in pids]
                    out(
                        f"  resident memory per worker after the load: {figures['rss_mb'][name]} MB"
                    )
                finally:
                    server.stop()
                figures["servers"].append(
                    {
                        "name": name,
                        "pid": server.process.pid,
                        "startup_s": startup,
                        # Shows the server was stopped and reaped (only an ended process has one).
                        "exit_status": server.process.returncode,
                    }
                )
                if kind == "embedded":
                    figures["solo"] = results
                else:
                    by_level: dict[str, dict[str, Any]] = {}
                    for result in results:
                        by_level.setdefault(str(result["concurrency"]), {})[result["name"]] = result
                    figures["workers"][str(workers)] = {"levels": by_level}
        finally:
            if chroma is not None:
                chroma.stop()
                figures["chroma_exit_status"] = chroma.process.returncode
    report(figures, out)
    figures["errors"] = sum(f["errors"] for f in all_phases(figures))
    figures["errors"] += sum(figures["warmup_errors"].values())
    figures["total_s"] = time.perf_counter() - started
    figures["load_end"] = list(os.getloadavg())
    out(f"\ntotal benchmark time: {figures['total_s']:.0f} s; {load()}")
    return figures


def start_chroma(tmp: Path, data_dir: Path, lifetime: float, out: Out) -> tuple[ChromaServer, Path]:
    """The Chroma server, and a data directory whose index the replicas' servers build on it
    (from a copy of the vector cache of --data-dir, so no passage is embedded again)."""
    replicas_data = tmp / "replicas-data"
    (replicas_data / "index").mkdir(parents=True)
    cache = data_dir / "index" / "embeddings.sqlite3"
    if cache.is_file():
        shutil.copyfile(cache, replicas_data / "index" / "embeddings.sqlite3")
    t0 = time.perf_counter()
    chroma = ChromaServer(tmp / "chroma", lifetime)
    chroma.wait_ready(CHROMA_START_TIMEOUT_S)
    out(f"\nchroma run on {chroma.url}: ready in {time.perf_counter() - t0:.1f} s")
    return chroma, replicas_data


def all_phases(figures: dict[str, Any]) -> list[dict[str, Any]]:
    phases = list(figures.get("solo", []))
    for entry in figures["workers"].values():
        phases += [f for level in entry["levels"].values() for f in level.values()]
    return phases


def report(figures: dict[str, Any], out: Out) -> None:
    table(
        out,
        f"1 session, 1 process, ChromaDB embedded (the default deployment) ({load()})",
        figures.get("solo", []),
    )
    solo = {f["name"]: f for f in figures.get("solo", [])}
    if solo:
        cpu_table(out, figures["solo"])
        echo = solo["echo"]
        out("  ratio to echo (same server, back to back):")
        for name in ("diagnostic", "question"):
            f = solo[name]
            kind = "oriented" if name == "diagnostic" else "all answered"
            out(
                f"    {LABELS[name]:<16} p50 x{ratio(f['p50_ms'], echo['p50_ms']):.1f}, "
                f"p95 x{ratio(f['p95_ms'], echo['p95_ms']):.1f} "
                f"(rounds {kind}: {f['rounds_done_right']}/{f['rounds']})"
            )
    for workers, entry in figures["workers"].items():
        phases = [f for level in entry["levels"].values() for f in level.values()]
        table(out, f"{workers} worker(s) over the Chroma server", phases)
        cpu_table(out, phases)
        for level, pair in entry["levels"].items():
            if "diagnostic" in pair and "echo" in pair:
                d, e = pair["diagnostic"], pair["echo"]
                out(
                    f"  @ {level:>3}: diagnostic / echo p95 "
                    f"x{ratio(d['p95_ms'], e['p95_ms']):.1f}, "
                    f"turns/s {d['throughput_rps']:.1f} (oriented {d['rounds_done_right']}/"
                    f"{d['rounds']})"
                )
    if len(figures["workers"]) > 1:
        out("\nworkers compared (diagnostic turns/s, same run)")
        base = figures["workers"].get("1")
        for workers, entry in figures["workers"].items():
            for level, pair in entry["levels"].items():
                d = pair.get("diagnostic")
                one = (base or {}).get("levels", {}).get(level, {}).get("diagnostic")
                if d and one:
                    got = d["cores"]["workers"]
                    out(
                        f"  {workers} worker(s) @ {level:>3}: {d['throughput_rps']:7.1f} turns/s, "
                        f"x{ratio(d['throughput_rps'], one['throughput_rps']):.2f} of 1 worker; "
                        f"the workers got {'-' if got is None else f'{got:.2f}'} cores, the "
                        f"rest of the machine {cores_left(d)}"
                    )
    out("\nresident memory (RSS) per serving process after its load, MB")
    for name, values in figures["rss_mb"].items():
        out(f"  {name:<12} {values}")
    out(f"\ngoals of issue 12 (figures of this run; printed, never asserted) ({load()})")
    figures["goals"] = goals(figures, out)


def cores_left(phase: dict[str, Any]) -> str:
    """What the workers could not have: the cores the benchmark's helpers, the client and the
    other jobs took."""
    c = phase["cores"]
    parts = [("helpers", c["helpers"]), ("client", c["client"]), ("others", c["others"])]
    return ", ".join(f"{name} {value:.2f}" for name, value in parts if value is not None)


def parse_list(high: int, name: str) -> Any:
    def parse(text: str) -> list[int]:
        try:
            values = sorted({int(v) for v in text.split(",") if v.strip()})
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: integers separated by commas") from None
        if not values or not all(1 <= v <= high for v in values):
            raise argparse.ArgumentTypeError(f"{name}: between 1 and {high}")
        return values

    return parse


def bounded(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"between {low} and {high}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sessions",
        type=parse_list(MAX_SESSIONS, "--sessions"),
        default=[50, 200],
        help="concurrent sessions of the load levels, comma-separated (default 50,200)",
    )
    parser.add_argument(
        "--workers",
        type=parse_list(MAX_WORKERS, "--workers"),
        default=[1, 2],
        help="worker counts over the Chroma server, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--rounds",
        type=bounded(1, MAX_ROUNDS),
        default=2,
        help="rounds per concurrent session (default 2)",
    )
    parser.add_argument(
        "--solo-rounds",
        type=bounded(1, 10 * MAX_ROUNDS),
        default=20,
        help="rounds of the single session, for enough samples (default 20)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=400.0, help="measurement time bound (default 400)"
    )
    parser.add_argument(
        "--data-dir", default=str(DEFAULT_DATA_DIR), help="index location (default var/test-data)"
    )
    parser.add_argument(
        "--no-replicas",
        action="store_true",
        help="the 1-session part alone (no Chroma server, no load levels)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    # The child process's side (internal).
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=600.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-workers", dest="serve_workers", type=int, default=1, help=argparse.SUPPRESS
    )
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        args.workers = args.serve_workers
        return serve(args)
    if not 1 <= args.max_seconds <= 3600:
        parser.error("--max-seconds: between 1 and 3600")
    out = Out(args.json)
    figures = run(args, out)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
