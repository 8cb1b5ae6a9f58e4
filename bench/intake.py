"""Benchmark: hotline intake under load, N concurrent clients filing reports with retries.

    .venv/bin/python bench/intake.py                       # PostgreSQL and SQLite, 32 clients
    .venv/bin/python bench/intake.py --db postgres --clients 64 --requests-per-client 10
    .venv/bin/python bench/intake.py --db sqlite --worker-class gthread --workers 2 --threads 4
    .venv/bin/python bench/intake.py --db postgres --think-ms 1000   # clients pause ~1 s

For each database it builds a fresh one (PostgreSQL: ``CREATE DATABASE kinfolk_bench_...`` on
the local server, dropped afterwards; SQLite: a temporary ``KINFOLK_VAR_DIR``), runs
``migrate`` and ``load_demo``, starts gunicorn on 127.0.0.1, signs in as the demo hotline
worker and lets N client threads file reports through ``POST /api/v1/reports/``. Every report
carries a fresh ``Idempotency-Key``; a timeout, a connection error or a 5xx is retried with the
same key and body (bounded, with backoff), and about one success in ten is deliberately sent
again to check that it is replayed, not filed twice.

Printed per database: requests, throughput, p50/p95/p99 latency of successful filings (from
the first attempt to the 2xx, so retries count against it), errors (no 2xx after the retries),
retries, replays, and duplicates = reports filed during the run minus idempotency keys that
were filed (must be 0); also CPU milliseconds per report of the client, gunicorn and the
PostgreSQL backends, and how busy the rest of the machine was (a shared machine makes a run
noisy). Then the goal: p95 <= 150 ms at 32 clients on PostgreSQL. By default the clients file
back to back (a closed loop): latency is then about clients / throughput.

Only synthetic people with random letters for names are filed; nothing here prints a name or a
narrative. The run is bounded in requests and time, and gunicorn is stopped even on error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
# The project's virtualenv runs manage.py and gunicorn, whichever Python runs this script.
VENV_BIN = (
    ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
)
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
USERNAME = "hotline"
PASSWORD = "kinfolk-demo-2026"  # the demo data's published password
ORG_UNIT = "ADM-N"
GOAL_P95_MS = 150.0
GOAL_CLIENTS = 32

# Tried on the 2-core machine at 32 clients, PostgreSQL: sync 2, 3, 4 and 6 workers, gthread
# 2 workers x 4 threads. With the audit chain's lock held only from a filing's last insert to
# its commit, three runs of each, back to back on an otherwise idle machine, gave median 44,
# 42, 52 and 52 reports/s for 2, 3, 4 and 6 workers, the spread of one setting (42-69 for 2)
# wider than the gaps between them. 4 keeps both cores busy while a worker waits on the
# database, without 6's extra memory. (gthread, tried before that change, was worse: p95
# +30%.)
DEFAULT_WORKER_CLASS = "sync"
DEFAULT_WORKERS = 4
DEFAULT_THREADS = 1
DEFAULT_APP = "kinfolk.wsgi:application"


# -- synthetic reports ------------------------------------------------------------------------


def _name(rng: random.Random) -> str:
    """A random-letter name: never resembles a real person or another report's people."""
    return rng.choice(string.ascii_uppercase) + "".join(
        rng.choices(string.ascii_lowercase, k=rng.randint(6, 10))
    )


def _birth_date(rng: random.Random, lo_years: int, hi_years: int) -> str:
    today = date.today()
    return str(today - timedelta(days=rng.randint(lo_years * 365, hi_years * 365)))


def report_body(rng: random.Random) -> dict[str, Any]:
    """One or two children and a parent, an allegation per child; every person new."""
    family = _name(rng)
    children = rng.randint(1, 2)
    people: list[dict[str, Any]] = [
        {
            "ref": f"c{i}",
            "role": "alleged_victim",
            "first_name": _name(rng),
            "last_name": family,
            "date_of_birth": _birth_date(rng, 1, 16),
            "sex": rng.choice(["1", "2"]),
            "confirmed_new": True,
        }
        for i in range(1, children + 1)
    ]
    people.append(
        {
            "ref": "p1",
            "role": "alleged_perpetrator",
            "first_name": _name(rng),
            "last_name": family,
            "date_of_birth": _birth_date(rng, 20, 50),
            "sex": rng.choice(["1", "2"]),
            "confirmed_new": True,
        }
    )
    received = datetime.now(UTC) - timedelta(minutes=rng.randint(1, 120))
    return {
        "org_unit": ORG_UNIT,
        "received_at": received.isoformat(),
        "channel": rng.choice(["phone", "phone", "web"]),
        "narrative": " ".join(_name(rng).lower() for _ in range(rng.randint(10, 40))),
        "location": f"{rng.randint(1, 9999)} {_name(rng)} Street",
        "reporter": {
            "source": rng.choice(["1", "2", "4", "5", "9", "10"]),
            "name": f"{_name(rng)} {_name(rng)}",
            "phone": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "organisation": _name(rng),
        },
        "people": people,
        "allegations": [
            {
                "child": f"c{i}",
                "perpetrator": "p1",
                "perpetrator_relationship": "parent",
                "maltreatment_type": rng.choice(["1", "2", "2", "3", "5"]),
                # A day or more ago: "today" in UTC can be tomorrow in the agency's zone.
                "incident_date": str(date.today() - timedelta(days=rng.randint(1, 30))),
            }
            for i in range(1, children + 1)
        ],
    }


# -- the clients ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw; one per thread, merged at the end (no locks on the hot path)."""

    latencies_ms: list[float] = field(default_factory=list)
    replay_ms: list[float] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    retried_reports: int = 0
    replays: int = 0
    replay_failures: int = 0  # answered, but not with the first response: a real bug
    replay_unanswered: int = 0  # timeout, connection error or 5xx: says nothing either way
    replayed_after_retry: int = 0

    def merge(self, other: Tally) -> None:
        self.latencies_ms += other.latencies_ms
        self.replay_ms += other.replay_ms
        self.acked |= other.acked
        self.sent |= other.sent
        self.errors.update(other.errors)
        self.retries += other.retries
        self.retried_reports += other.retried_reports
        self.replays += other.replays
        self.replay_failures += other.replay_failures
        self.replay_unanswered += other.replay_unanswered
        self.replayed_after_retry += other.replayed_after_retry


@dataclass(frozen=True)
class LoadConfig:
    base_url: str
    token: str
    requests_per_client: int
    max_retries: int
    timeout_s: float
    replay_fraction: float
    deadline: float  # time.monotonic() after which no new report is started
    think_s: float = 0.0  # pause between one client's reports (0: back to back)


def _post(
    session: requests.Session, url: str, body: dict[str, Any], key: str, timeout_s: float
) -> requests.Response:
    return session.post(url, json=body, headers={"Idempotency-Key": key}, timeout=timeout_s)


def file_one(session: requests.Session, cfg: LoadConfig, rng: random.Random, tally: Tally) -> None:
    """File one report: retry the same key and body on timeout, connection error or 5xx."""
    url = f"{cfg.base_url}/api/v1/reports/"
    body = report_body(rng)
    key = str(uuid.uuid4())
    tally.sent.add(key)
    started = time.perf_counter()
    response: requests.Response | None = None
    failure = ""
    for attempt in range(cfg.max_retries + 1):
        if attempt:
            tally.retries += 1
            time.sleep(min(2.0, 0.05 * 2**attempt) * rng.uniform(0.5, 1.5))
        try:
            response = _post(session, url, body, key, cfg.timeout_s)
        except requests.Timeout:
            failure, response = "timeout", None
            continue
        except requests.ConnectionError:
            failure, response = "connection", None
            continue
        if response.status_code >= 500 or response.status_code == 429:
            failure = f"http {response.status_code}"
            continue
        break
    elapsed_ms = (time.perf_counter() - started) * 1000
    if attempt:
        tally.retried_reports += 1
    if response is None or not 200 <= response.status_code < 300:
        # Only the status and the error code: an error body may echo what was sent.
        if response is not None:
            code = ""
            with contextlib.suppress(ValueError, AttributeError):
                code = str(response.json().get("code", ""))
            failure = f"http {response.status_code} {code}".strip()
        tally.errors[failure] += 1
        return
    tally.latencies_ms.append(elapsed_ms)
    tally.acked.add(key)
    if response.headers.get("Idempotent-Replayed") == "true":
        tally.replayed_after_retry += 1
    if rng.random() < cfg.replay_fraction:
        first_id = response.json().get("id")
        replay_started = time.perf_counter()
        try:
            again = _post(session, url, body, key, cfg.timeout_s)
        except requests.RequestException:
            tally.replay_unanswered += 1
            return
        if again.status_code >= 500 or again.status_code == 429:
            tally.replay_unanswered += 1
            return
        tally.replay_ms.append((time.perf_counter() - replay_started) * 1000)
        tally.replays += 1
        ok = (
            200 <= again.status_code < 300
            and again.headers.get("Idempotent-Replayed") == "true"
            and again.json().get("id") == first_id
        )
        if not ok:
            tally.replay_failures += 1


def client(cfg: LoadConfig, seed: int, start: threading.Barrier, tally: Tally) -> None:
    rng = random.Random(seed)
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token {cfg.token}"
        start.wait()
        if cfg.think_s:
            # Spread the clients out instead of all filing at the same instant.
            time.sleep(rng.uniform(0, 1.5 * cfg.think_s))
        for n in range(cfg.requests_per_client):
            if n and cfg.think_s:
                time.sleep(cfg.think_s * rng.uniform(0.5, 1.5))
            if time.monotonic() > cfg.deadline:
                tally.errors["not started: time limit"] += 1
                continue
            try:
                file_one(session, cfg, rng, tally)
            except Exception as exc:  # a bug in the client must not hang the run
                tally.errors[f"client {type(exc).__name__}"] += 1


def run_load(cfg: LoadConfig, clients: int, seed: int) -> tuple[Tally, float]:
    """Run ``clients`` threads to completion; returns the merged tally and the wall time."""
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    threads = [
        threading.Thread(target=client, args=(cfg, seed + i, start, tallies[i]), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        # Bounded even if a server hangs: each request times out, retries are bounded.
        thread.join(timeout=max(1.0, cfg.deadline - time.monotonic()) + 120)
    wall = time.perf_counter() - began
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        total.errors["client still running at the end"] += hung
    return total, wall


# -- the database and the server --------------------------------------------------------------


@dataclass
class Target:
    kind: str  # "postgres" | "sqlite"
    env: dict[str, str]
    workdir: Path
    pg_name: str = ""
    sqlite_path: Path | None = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/{self.pg_name}", autocommit=True) as conn:
                return conn.execute(sql).fetchall()
        assert self.sqlite_path is not None
        lite = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return lite.execute(sql).fetchall()
        finally:
            lite.close()


def _psql(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{database}", autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[Target]:
    """A new, migrated database with the demo data; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kinfolk_bench_{kind}_"))
    env = dict(os.environ)
    env.update(
        {
            "KINFOLK_VAR_DIR": str(workdir),
            "KINFOLK_LOGIN_THROTTLING": "0",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            # Each worker keeps its database connection for the whole run: a backend that
            # closes after the default 60 s takes its CPU time with it, out of the figures.
            "CONN_MAX_AGE": "600",
        }
    )
    target = Target(kind=kind, env=env, workdir=workdir)
    if kind == "postgres":
        target.pg_name = f"kinfolk_bench_{os.getpid()}_{secrets.token_hex(3)}"
        env["DATABASE_URL"] = f"{PG_SERVER}/{target.pg_name}"
        _psql(f'CREATE DATABASE "{target.pg_name}"')
    else:
        env.pop("DATABASE_URL", None)
        target.sqlite_path = workdir / "kinfolk.sqlite3"
    keep = False
    try:
        for command in (["migrate", "-v0", "--no-input"], ["load_demo"]):
            done = subprocess.run(
                [PYTHON, "manage.py", *command],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode:
                keep = True
                (workdir / "setup.err").write_text(done.stderr)
                raise RuntimeError(
                    f"manage.py {command[0]} failed ({done.returncode}); "
                    f"stderr kept in {workdir / 'setup.err'}"
                )
        if kind == "postgres":
            # Statistics for the planner, as autovacuum would gather after a bulk load (this
            # machine's server runs without it): without them PostgreSQL guesses the freshly
            # loaded person table is empty and joins every duplicate check against all of it.
            _psql("ANALYZE", database=target.pg_name)
        yield target
    except Exception:
        keep = True  # gunicorn.log and setup.err stay for a look; interrupts clean up
        print(f"   (kept {workdir} for its logs)", file=sys.stderr)
        raise
    finally:
        if target.pg_name:
            with contextlib.suppress(Exception):
                _psql(f'DROP DATABASE IF EXISTS "{target.pg_name}" WITH (FORCE)')
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    target: Target, port: int, app: str, worker_class: str, workers: int, threads: int
) -> Iterator[tuple[str, int]]:
    """Run gunicorn on 127.0.0.1:port until the block ends; always stopped afterwards."""
    log = open(target.workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed in finally
    command = [
        str(VENV_BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        worker_class,
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=target.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we stop the master and its workers
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; log in {log.name}")
            try:
                requests.get(f"{base_url}/api/v1/auth/token/", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not answer in 60 s; log in {log.name}"
                    ) from None
                time.sleep(0.2)
        yield base_url, process.pid
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def sign_in(base_url: str) -> str:
    response = requests.post(
        f"{base_url}/api/v1/auth/token/",
        json={"username": USERNAME, "password": PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["token"])


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pgid: int, pg_name: str) -> dict[str, float]:
    """CPU seconds so far of: this process, gunicorn's processes, our PostgreSQL backends."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snap = {"client": usage.ru_utime + usage.ru_stime, "server": 0.0, "database": 0.0}
    with contextlib.suppress(OSError, ValueError, IndexError):
        # Whole machine, busy jiffies (user nice system irq softirq steal): the rest of the
        # machine's load is this minus ours, and it makes a run's figures noisy.
        jiffies = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        busy = sum(jiffies[i] for i in (0, 1, 2, 5, 6, 7))
        snap["machine"] = busy / os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                if os.getpgid(pid) == server_pgid:
                    snap["server"] += _proc_cpu_s(pid)
                elif pg_name and pg_name in (entry / "cmdline").read_bytes().decode(
                    errors="replace"
                ):
                    snap["database"] += _proc_cpu_s(pid)
            except OSError:
                continue
    return snap


def count_reports(target: Target) -> int:
    return int(target.query("SELECT COUNT(*) FROM intake_report")[0][0])


def stored_keys(target: Target) -> set[str]:
    rows = target.query(
        "SELECT key FROM core_idempotencykey WHERE path = '/api/v1/reports/' AND method = 'POST'"
    )
    return {str(row[0]) for row in rows}


# -- one database -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


@dataclass
class Result:
    db: str
    config: str
    clients: int
    attempted: int
    tally: Tally
    wall_s: float
    new_reports: int
    filed_unacked: int
    acked_not_stored: int
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return self.new_reports - len(self.tally.acked) - self.filed_unacked

    @property
    def p95(self) -> float:
        return percentile(self.tally.latencies_ms, 95)


def bench_one(kind: str, args: argparse.Namespace) -> Result:
    worker_class = args.worker_class
    config = f"gunicorn {worker_class} workers={args.workers}"
    if args.app != DEFAULT_APP:
        config += f" app={args.app}"
    if args.think_ms:
        config += f" think={args.think_ms:.0f}ms"
    if worker_class == "gthread":
        config += f" threads={args.threads}"
    print(f"\n== {kind}: preparing a fresh database (migrate + load_demo) ...", flush=True)
    with fresh_database(kind) as target:
        port = args.port or free_port()
        print(f"   starting {config} on 127.0.0.1:{port}", flush=True)
        with gunicorn(target, port, args.app, worker_class, args.workers, args.threads) as (
            base_url,
            server_pgid,
        ):
            token = sign_in(base_url)
            before = count_reports(target)
            # Warm-up: every worker imports, connects and compiles once (not measured).
            warm = LoadConfig(
                base_url=base_url,
                token=token,
                requests_per_client=2,
                max_retries=args.retries,
                timeout_s=args.timeout,
                replay_fraction=0.0,
                deadline=time.monotonic() + 60,
            )
            warm_tally, _ = run_load(warm, max(2, args.workers * max(1, args.threads)), 10_000)
            cfg = LoadConfig(
                base_url=base_url,
                token=token,
                requests_per_client=args.requests_per_client,
                max_retries=args.retries,
                timeout_s=args.timeout,
                replay_fraction=args.replay_fraction,
                deadline=time.monotonic() + args.time_limit,
                think_s=args.think_ms / 1000,
            )
            print(
                f"   {args.clients} clients x {args.requests_per_client} reports "
                f"(time limit {args.time_limit:.0f} s) ...",
                flush=True,
            )
            cpu_before = cpu_snapshot(server_pgid, target.pg_name)
            tally, wall = run_load(cfg, args.clients, args.seed)
            cpu_after = cpu_snapshot(server_pgid, target.pg_name)
        # Server stopped: count what reached the database.
        new_reports = count_reports(target) - before
        keys = stored_keys(target)
        acked = tally.acked | warm_tally.acked
        sent = tally.sent | warm_tally.sent
        filed_unacked = len((sent - acked) & keys)
        acked_not_stored = len(acked - keys)
        # The warm-up's filings are part of the ledger, not of the latency figures.
        ledger = Tally(acked=acked, sent=sent)
        ledger.merge(tally)
        result = Result(
            db=kind,
            config=config,
            clients=args.clients,
            attempted=len(tally.sent) + tally.errors["not started: time limit"],
            tally=ledger,
            wall_s=wall,
            new_reports=new_reports,
            filed_unacked=filed_unacked,
            acked_not_stored=acked_not_stored,
            cpu_s={k: cpu_after[k] - cpu_before[k] for k in cpu_before},
        )
        report(result, measured=tally)
        return result


def report(result: Result, measured: Tally) -> None:
    lat = measured.latencies_ms
    ok = len(lat)
    throughput = ok / result.wall_s if result.wall_s else 0.0
    errors = sum(measured.errors.values())
    print(f"-- {result.db} ({result.config}, {result.clients} clients)")
    print(f"   requests        {result.attempted} reports ({ok} filed, {errors} errors)")
    print(f"   throughput      {throughput:.1f} reports/s over {result.wall_s:.1f} s")
    print(
        f"   latency ms      p50 {percentile(lat, 50):.0f}   p95 {percentile(lat, 95):.0f}   "
        f"p99 {percentile(lat, 99):.0f}   max {max(lat, default=float('nan')):.0f}"
    )
    if errors:
        detail = ", ".join(f"{why}: {n}" for why, n in measured.errors.most_common())
        print(f"   errors          {errors} ({detail})")
    else:
        print("   errors          0")
    print(
        f"   retries         {measured.retries} attempts on {measured.retried_reports} reports "
        f"({measured.replayed_after_retry} answered by a replay of the first attempt)"
    )
    print(
        f"   replays         {measured.replays} deliberate re-sends, "
        f"{measured.replay_failures} not replayed correctly"
        + (f", {measured.replay_unanswered} unanswered" if measured.replay_unanswered else "")
        + f"; p50 {percentile(measured.replay_ms, 50):.0f} ms"
    )
    print(
        f"   duplicates      {result.duplicates}  ({result.new_reports} reports in the database "
        f"for {len(result.tally.acked)} acknowledged keys"
        + (f" + {result.filed_unacked} filed but unacknowledged" if result.filed_unacked else "")
        + ")"
        + ("  MUST BE 0" if result.duplicates else "")
    )
    if ok and result.cpu_s:
        cpu = dict(result.cpu_s)
        machine = cpu.pop("machine", None)
        per = {k: v / ok * 1000 for k, v in cpu.items()}
        parts = "   ".join(f"{k} {v:.1f}" for k, v in per.items() if k != "database" or v)
        cores = os.cpu_count() or 1
        print(
            f"   CPU ms/report   {parts}   ({cores} cores = "
            f"{cores * 1000 / max(sum(per.values()), 1e-9):.0f} reports/s at most)"
        )
        if machine is not None and result.wall_s:
            others = max(0.0, machine - sum(cpu.values())) / result.wall_s
            print(f"   other load      {others:.2f} of {cores} cores busy with other processes")
    if result.acked_not_stored:
        print(f"   WARNING: {result.acked_not_stored} acknowledged keys have no stored record")


# -- main -------------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop gunicorn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests-per-client", type=int, default=25)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default=DEFAULT_WORKER_CLASS)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="gthread only")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--app", default=DEFAULT_APP, help="WSGI application for gunicorn")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause between one client's reports (default 0: back to back)",
    )
    parser.add_argument("--retries", type=int, default=4, help="per report, after the first")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per attempt")
    parser.add_argument("--replay-fraction", type=float, default=0.1)
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds per database: no new reports"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests_per_client < 1 or args.workers < 1:
        parser.error("--clients, --requests-per-client and --workers must be at least 1")

    signal.signal(signal.SIGTERM, _terminate)
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    results: list[Result] = []
    for kind in kinds:
        results.append(bench_one(kind, args))

    print()
    failed = False
    for result in results:
        if result.duplicates or result.acked_not_stored or result.tally.replay_failures:
            print(
                f"FAIL {result.db}: idempotency broken (duplicates {result.duplicates}, "
                f"replays answered wrongly {result.tally.replay_failures}, "
                f"acknowledged but not stored {result.acked_not_stored})"
            )
            failed = True
    postgres = next((r for r in results if r.db == "postgres"), None)
    if postgres is not None:
        met = postgres.clients == GOAL_CLIENTS and postgres.p95 <= GOAL_P95_MS
        where = "" if postgres.clients == GOAL_CLIENTS else f" (ran {postgres.clients} clients)"
        if args.think_ms:
            where += f" (with {args.think_ms:.0f} ms think time, not back to back)"
        print(
            f"goal: p95 <= {GOAL_P95_MS:.0f} ms at {GOAL_CLIENTS} clients (PostgreSQL): "
            f"{'MET' if met else 'NOT MET'} - p95 {postgres.p95:.0f} ms{where}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
