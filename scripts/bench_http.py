"""Benchmark the web connector over real HTTP: conversation turns against a bare endpoint.

Usage:
    python scripts/bench_http.py [--sessions N] [--rounds R] [--solo-rounds R]
                                 [--max-seconds S] [--data-dir DIR] [--json]

Prints figures only; nothing here asserts a time. The real app (`create_app` over a `Runtime`)
runs under uvicorn on 127.0.0.1 in a child process (so the client's work does not share the
server's interpreter), with its own temporary session database. The index is the one of
--data-dir (default var/test-data, the test suite's), built there first if it is absent.

Measured with httpx (async), at 1 session and at --sessions concurrent sessions:

- echo (baseline): ``POST /api/echo``, the same app and middlewares, body parsed and checked
  as a turn's is, no core work: 3 requests per round, the three messages below;
- turn: ``POST /api/sessions/{id}/messages``: each round creates a session (not timed) then
  sends the three messages of an employing association in Guéret (the last one is oriented).

Per phase: per-request latency p50/p95, throughput (timed requests per second of the
phase's wall time, which for turns includes the session creations) and the CPU time per request
of the server and of this client (they share the machine), then the ratio turn / echo at each
level. Echo and turns run back to back at each level, so a slow patch of the machine hits both
alike.

Load is bounded in count (--sessions <= 200, --rounds <= 20) and in time: the measurement
stops starting rounds at --max-seconds (shared out between the phases still to run) and each
request has a timeout; server start-up (and an index build, if needed) is bounded apart. The
server is stopped on every exit path, and stops itself if this process goes away.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
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
MAX_SESSIONS = 200
MAX_ROUNDS = 20
START_TIMEOUT_S = 900.0  # an index build from scratch embeds every passage (minutes)
REQUEST_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Plain HTTP needs none, but httpx builds a TLS context per client unless given one (slow).
TLS = ssl.create_default_context()


# --------------------------------------------------------------------------- the server


def serve(data_dir: Path, tmp: Path, lifetime: float) -> int:
    """Child process: build the index if needed, then serve the app on 127.0.0.1.

    Its files (session database, port) live in the parent's temporary directory, which the
    parent removes: uvicorn re-raises SIGTERM once shut down, so no cleanup runs here."""
    import socket

    import uvicorn

    from assistant.runtime import Runtime
    from assistant.search.cards import load_cards
    from assistant.search.index import IndexBuilder, current_generation
    from assistant.settings import Settings
    from connectors.web.app import create_app

    parent = os.getppid()
    started = time.monotonic()

    def watchdog() -> None:
        # An orphaned or overdue server must not outlive the benchmark.
        while os.getppid() == parent and time.monotonic() - started < lifetime:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watchdog, daemon=True).start()
    # All the load comes from one address: the flood limit would measure itself, not the turn.
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{tmp}/sessions.sqlite3", rate_limit=""
    )
    runtime = Runtime(settings)
    if current_generation(settings.index_dir) is None:
        IndexBuilder(settings.index_dir, runtime.embedder).build(load_cards(settings.cards_dir))
    app = create_app(runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    # Written atomically: the parent reads a complete port or nothing.
    (tmp / "port.tmp").write_text(str(sock.getsockname()[1]))
    (tmp / "port.tmp").rename(tmp / "port")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


class Server:
    """The child process serving the app; `url` once it answers /healthz."""

    def __init__(self, data_dir: Path, lifetime: float, tmp: Path) -> None:
        self.port_file = tmp / "port"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve",
                "--data-dir",
                str(data_dir),
                "--tmp",
                str(tmp),
                "--lifetime",
                str(lifetime),
            ],
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,  # our stdout may be the JSON document
            cwd=REPO_ROOT,
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
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        self.url = url
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------- the load


@dataclass
class Phase:
    name: str
    concurrency: int
    rounds: int
    latencies: list[float] = field(default_factory=list)
    requests: int = 0  # every request, untimed ones included (throughput counts them all)
    errors: list[str] = field(default_factory=list)
    oriented: int = 0
    rounds_done: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None
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


async def turn_session(client: httpx.AsyncClient, phase: Phase, deadline: float) -> None:
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
        body: dict[str, Any] = {}
        for text in GUERET:
            t0 = time.perf_counter()
            response = await client.post(path, json={"text": text})
            phase.latencies.append(time.perf_counter() - t0)
            phase.requests += 1
            if response.status_code != 200:
                phase.errors.append(f"turn: HTTP {response.status_code}")
                break
            body = response.json()
        if body.get("contacts"):  # a sanity check that the turns did the real work
            phase.oriented += 1
        phase.rounds_done += 1


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the server process has used; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_phase(url: str, phase: Phase, deadline: float, pid: int) -> Phase:
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
    try:
        # Connections opened untimed (GET /api/echo): a browser keeps its connection open.
        await asyncio.gather(*(client.get("/api/echo") for client in clients))
        cpu0, server0 = time.process_time(), server_cpu(pid)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(session(client, phase, deadline) for client in clients),
            return_exceptions=True,
        )
        phase.wall = time.perf_counter() - started
        phase.client_cpu = time.process_time() - cpu0
        server1 = server_cpu(pid)
        if server0 is not None and server1 is not None:
            phase.server_cpu = server1 - server0
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
        "errors": len(phase.errors),
        "error_kinds": sorted(set(phase.errors)),
        "oriented_sessions": phase.oriented,
        "stopped_early": phase.stopped_early,
    }


# --------------------------------------------------------------------------- the report


class Out:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, text: str = "") -> None:
        print(text, file=sys.stderr if self.as_json else sys.stdout, flush=True)


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


async def measure(url: str, pid: int, args: argparse.Namespace, out: Out) -> dict[str, Any]:
    started = time.monotonic()
    end = started + args.max_seconds
    # Untimed warm-up: the embedding model, the index and the territories load on first use.
    await run_phase(url, Phase("turn", 1, 1), end, pid)
    out(f"warm-up session: {time.monotonic() - started:.1f} s")
    plan = [
        ("echo", 1, args.solo_rounds),
        ("turn", 1, args.solo_rounds),
        ("echo", args.sessions, args.rounds),
        ("turn", args.sessions, args.rounds),
    ]
    levels: dict[str, dict[str, Any]] = {}
    for done, (name, concurrency, rounds) in enumerate(plan):
        # Each phase may use its share of what is left; echo phases leave most of theirs.
        share = (end - time.monotonic()) / (len(plan) - done)
        phase = await run_phase(
            url, Phase(name, concurrency, rounds), time.monotonic() + max(share, 0.0), pid
        )
        levels.setdefault(str(concurrency), {})[name] = stats(phase)
    return levels


def report(figures: dict[str, Any], out: Out) -> None:
    out(f"\nper-request latency and throughput ({load()})")
    out(
        f"  {'phase':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} "
        f"{'req/s':>8} {'errors':>6} {'CPU ms/req server':>17} {'client':>6}"
    )
    for level, phases in figures["levels"].items():
        for name, label in (("echo", "echo (baseline)"), ("turn", "turn")):
            f = phases[name]
            note = " [stopped at the time bound]" if f["stopped_early"] else ""
            server = f["server_cpu_ms_per_req"]
            out(
                f"  {label + f' @ {level} concurrent':<34} {f['n']:5d} {f['p50_ms']:8.2f} "
                f"{f['p95_ms']:8.2f} {f['mean_ms']:8.2f} {f['throughput_rps']:8.1f} "
                f"{f['errors']:6d} {'-' if server is None else f'{server:.2f}':>17} "
                f"{f['client_cpu_ms_per_req']:6.2f}{note}"
            )
    out("\nratio turn / echo (same run)")
    for level, phases in figures["levels"].items():
        r = figures["ratios"][level]
        out(
            f"  @ {level:>3} concurrent: p50 x{r['p50']:.1f}, p95 x{r['p95']:.1f}, "
            f"throughput x{r['throughput']:.3f} (turn sessions oriented: "
            f"{phases['turn']['oriented_sessions']}/{phases['turn']['rounds']})"
        )
    for level, phases in figures["levels"].items():
        for name in ("echo", "turn"):
            for kind in phases[name]["error_kinds"]:
                out(f"  error @ {level} {name}: {kind}")


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    started = time.perf_counter()
    data_dir = Path(args.data_dir).resolve()
    figures: dict[str, Any] = {
        "sessions": args.sessions,
        "rounds": args.rounds,
        "solo_rounds": args.solo_rounds,
        "max_seconds": args.max_seconds,
        "data_dir": str(data_dir),
    }
    out(
        f"Aiguillage HTTP benchmark: uvicorn on 127.0.0.1 (child process), index in {data_dir}; "
        f"1 session x {args.solo_rounds} rounds, then {args.sessions} concurrent sessions x "
        f"{args.rounds} rounds; 3 turns per round; bound {args.max_seconds:.0f} s\n{load()}"
    )
    lifetime = START_TIMEOUT_S + args.max_seconds + 60
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-http-") as tmp:
        server = Server(data_dir, lifetime, Path(tmp))
        try:
            t0 = time.perf_counter()
            server.wait_ready(START_TIMEOUT_S)
            figures["startup_s"] = time.perf_counter() - t0
            out(f"server ready in {figures['startup_s']:.1f} s")
            figures["levels"] = asyncio.run(measure(server.url, server.process.pid, args, out))
            figures["server_rss_mb"] = rss_mb(server.process.pid)
            out(f"server resident memory after the load: {figures['server_rss_mb']} MB")
        finally:
            server.stop()
    # Shows the server was stopped and reaped (a status exists only for an ended process).
    figures["server"] = {"pid": server.process.pid, "exit_status": server.process.returncode}
    figures["ratios"] = {
        level: {
            "p50": ratio(p["turn"]["p50_ms"], p["echo"]["p50_ms"]),
            "p95": ratio(p["turn"]["p95_ms"], p["echo"]["p95_ms"]),
            "throughput": ratio(p["turn"]["throughput_rps"], p["echo"]["throughput_rps"]),
        }
        for level, p in figures["levels"].items()
    }
    report(figures, out)
    figures["errors"] = sum(
        phase["errors"] for phases in figures["levels"].values() for phase in phases.values()
    )
    figures["total_s"] = time.perf_counter() - started
    out(f"\ntotal benchmark time: {figures['total_s']:.0f} s; {load()}")
    return figures


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (VmRSS), in MB; None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


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
        type=bounded(2, MAX_SESSIONS),
        default=50,
        help="concurrent sessions of the second level (default 50)",
    )
    parser.add_argument(
        "--rounds",
        type=bounded(1, MAX_ROUNDS),
        default=3,
        help="rounds per concurrent session (default 3)",
    )
    parser.add_argument(
        "--solo-rounds",
        type=bounded(1, 10 * MAX_ROUNDS),
        default=10,
        help="rounds of the single session, for enough samples (default 10)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="measurement time bound (default 120)"
    )
    parser.add_argument(
        "--data-dir", default=str(DEFAULT_DATA_DIR), help="index location (default var/test-data)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    # The child process's side (internal).
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(Path(args.data_dir), Path(args.tmp), args.lifetime)
    if not 1 <= args.max_seconds <= 3600:
        parser.error("--max-seconds: between 1 and 3600")
    out = Out(args.json)
    figures = run(args, out)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
