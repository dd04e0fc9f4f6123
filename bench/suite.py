#!/usr/bin/env python3
"""The benchmark suite: every measurement of docs/benchmarks.md, side by side, in one table.

Run it through `bench/run`, which builds the release binary and installs the tools first.
Standard library only; the Python `requests` comparison runs as its own script.

Sections:
  1. rate-limit efficiency against the sandbox limited to N/min, beside a curl loop and a
     Python `requests` script sending the same bodies;
  2. throughput with the limit off, by concurrency, with and without batching, beside `wrk`
     (the ceiling) and the two scripts;
  3. peak resident memory of `run --dry-run` and `run` on small and large inputs;
  4. the wizard's own benchmark, when it exists;
  5. start-up time of `--help` and `validate`;
  6. sync: `plan` over a large export against a state that knows every key (time and peak RSS),
     `run` of that unchanged export, and the requests a day-2 sync spends per changed record
     (examples/bench_sync.rs, read back).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "target" / "release" / "aircall-dest"
SANDBOX_ID = "sandbox-id"
SANDBOX_TOKEN = "sandbox-token"
AUTH_HEADER = "Basic " + base64.b64encode(f"{SANDBOX_ID}:{SANDBOX_TOKEN}".encode()).decode()
CONCURRENCIES = (1, 8, 32, 64)
# Runner runs per throughput row; the row reports their median and lists each.
RUNNER_ROUNDS = 3
MEMORY_LIMIT_MB = 64.0
SYNC_PLAN_SECONDS = 20.0
SYNC_PLAN_RSS_MB = 64.0
# Sync of changed rows at concurrency 8 against 1, limit off: ideally 8x; half of it is the bar,
# since the sandbox answering them runs on the same two cores.
SYNC_CONCURRENCY_GAIN = 4.0
FLAT_GROWTH_MB = 8.0

# Record counts per scale. N=120 and N=1200 runs hold a little more than N records so that a
# script without pacing outgrows the sandbox's bucket (it holds N requests) and meets its 429s.
SCALES = {
    "full": {
        "rate": {120: 150, 1200: 2400},
        "throughput": 10_000,
        "batched": 200_000,
        "batched_users": 200,
        "wrk_seconds": 5,
        "curl_records": 500,
        "python_records": 2_000,
        "memory": (10_000, 1_000_000),
        "memory_users_per": 1_000,
        "startup_runs": 50,
        "sync_rows": 1_000_000,
    },
    "quick": {
        "rate": {120: 60, 1200: 600},
        "throughput": 3_000,
        "batched": 20_000,
        "batched_users": 20,
        "wrk_seconds": 3,
        "curl_records": 200,
        "python_records": 500,
        "memory": (10_000, 200_000),
        "memory_users_per": 1_000,
        "startup_runs": 20,
        "sync_rows": 100_000,
    },
}


class Unmeasurable(Exception):
    """A measurement that could not be taken (as opposed to a target that was missed)."""


@dataclass
class Row:
    section: str
    measurement: str
    ours: str
    wrk: str = "—"
    curl: str = "—"
    python: str = "—"
    target: str = "—"
    result: str = "—"


def printed(program: str, output: str, pattern: str) -> re.Match:
    """The first match of `pattern` in what `program` printed; unmeasurable when it is missing."""
    match = re.search(pattern, output)
    if not match:
        raise Unmeasurable(f"{program} printed no line matching {pattern!r}; it printed: {output.strip()[-400:]}")
    return match


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def thousands(value: float) -> str:
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# The sandbox and the binary


class Sandbox:
    """`aircall-dest sandbox` in a child process, on a free loopback port."""

    def __init__(self, suite: "Suite", rate_limit: int):
        self.log_path = suite.work / f"sandbox-{suite.next_id()}.log"
        self.stderr = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(BIN), "sandbox", "--addr", "127.0.0.1:0", "--rate-limit", str(rate_limit)],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.match(r"listening on (http://\S+)", line)
        if not match:
            self.stop()
            raise Unmeasurable(f"the sandbox did not announce its address (got {line!r}); see {self.log_path}")
        self.url = match.group(1)
        self.rate_limit = rate_limit

    def call(self, method: str, path: str, body: object | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", AUTH_HEADER)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as err:
            raise Unmeasurable(f"sandbox {method} {path} answered {err.code}: {err.read()[:300]!r}") from err
        except OSError as err:
            raise Unmeasurable(f"sandbox {method} {path} failed: {err}") from err
        return json.loads(text) if text else None

    def journal(self) -> list[dict]:
        entries = self.call("GET", "/_sandbox/journal")
        if not isinstance(entries, list):
            raise Unmeasurable("the sandbox journal is not a list")
        return entries

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class RunResult:
    summary: dict
    wall: float
    rss_mb: float

    @property
    def seconds(self) -> float:
        return self.summary["duration_ms"] / 1000.0


def parse_rss_mb(report: str) -> float:
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    if not match:
        raise Unmeasurable("GNU time printed no maximum resident set size")
    return int(match.group(1)) / 1024.0


def milliseconds(text: str) -> float:
    """Rust's `{:?}` of a Duration (`707.74µs`, `5.88ms`, `1.20s`, `12ns`) in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    if not match:
        raise Unmeasurable(f"not a duration: {text!r}")
    scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


def to_rfc3339_seconds(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


# ---------------------------------------------------------------------------------------------
# Inputs and destination files


def write_contacts(path: Path, count: int) -> Path:
    """Contact records shaped like examples/bench_build.rs's, streamed to JSON Lines."""
    marker = path.with_suffix(".count")
    if path.exists() and marker.exists() and marker.read_text() == str(count):
        return path
    with open(path, "w", buffering=1 << 20) as out:
        for i in range(count):
            out.write(
                '{"id":%d,"first":" Name%d ","last":"Family","phone":"(%d) %03d-%04d",'
                '"email":"user%d@example.com","company":{"name":"Acme","city":"Paris"}}\n'
                % (i, i, 200 + i % 700, 200 + (i // 7) % 700, i % 10_000, i)
            )
    marker.write_text(str(count))
    return path


def write_dialer_numbers(path: Path, users: list[int], per_user: int) -> Path:
    """`{"user_id", "phone"}` records, user by user, every number distinct."""
    with open(path, "w", buffering=1 << 20) as out:
        k = 0
        for user in users:
            for _ in range(per_user):
                # Valid North American numbers: area and exchange codes from 200 up.
                phone = "+1%03d%03d%04d" % (200 + k // 7_000_000 % 700, 200 + k // 10_000 % 700, k % 10_000)
                out.write('{"user_id":%d,"phone":"%s"}\n' % (user, phone))
                k += 1
    return path


CONTACTS_TOML = """version = 1
name = "{name}"
status = "active"
credential = "{credential}"
[source]
path = "{source}"
format = "jsonl"
[template]
id = "create_records"
resource = "contacts"
[request]
method = "POST"
url = "/v1/contacts"
[[mapping]]
target = "first_name"
from = "first"
transform = "trim"
[[mapping]]
target = "last_name"
from = "last"
[[mapping]]
target = "phone_numbers[0].label"
value = "Work"
[[mapping]]
target = "phone_numbers[0].value"
from = "phone"
transform = "e164"
[[mapping]]
target = "emails[0].label"
value = "Work"
[[mapping]]
target = "emails[0].value"
from = "email"
[delivery]
rate_limit_per_minute = {rate}
concurrency = {concurrency}
"""

DIALER_TOML = """version = 1
name = "{name}"
status = "active"
credential = "{credential}"
[source]
path = "{source}"
format = "jsonl"
[template]
id = "dialer_campaign_numbers"
resource = "phone_numbers"
[request]
method = "POST"
url = "/v1/users/{{record.user_id}}/dialer_campaign/phone_numbers"
[[mapping]]
target = "phone_number"
from = "phone"
transform = "e164"
[batching]
enabled = true
algorithm = "group_by"
group_by = "user_id"
group_shape = "wrap"
wrap_key = "phone_numbers"
pluck = "phone_number"
max_records = 100
[delivery]
rate_limit_per_minute = {rate}
concurrency = {concurrency}
"""


# ---------------------------------------------------------------------------------------------
# The suite


class Suite:
    def __init__(self, args: argparse.Namespace):
        self.scale = SCALES["quick" if args.quick else "full"]
        self.quick = args.quick
        self.work = Path(args.work).resolve()
        if self.work.exists():
            for child in self.work.iterdir():
                # Generated inputs are kept between runs (they take seconds to write); the rest
                # (state, credentials, logs) starts afresh.
                if child.name != "inputs":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        (self.work / "inputs").mkdir(parents=True, exist_ok=True)
        self.home = self.work / "home"
        self.home.mkdir()
        self.env = dict(os.environ, AIRCALL_DEST_HOME=str(self.home), NO_COLOR="1")
        self.counter = 0
        self.rows: list[Row] = []
        self.failures: list[str] = []
        self.loads: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.script_rates: dict[str, float] = {}

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    # -- helpers ---------------------------------------------------------------------------

    def credential_for(self, sandbox: Sandbox) -> str:
        name = f"bench-{self.next_id()}"
        done = subprocess.run(
            [str(BIN), "credentials", "add", name, "--api-id", SANDBOX_ID, "--token-stdin", "--base-url", sandbox.url],
            input=SANDBOX_TOKEN + "\n",
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise Unmeasurable(f"credentials add failed: {done.stderr.strip()}")
        return name

    def destination(self, template: str, source: Path, credential: str, rate: int, concurrency: int) -> Path:
        n = self.next_id()
        path = self.work / f"dest-{n}.toml"
        path.write_text(
            template.format(name=f"bench-{n}", credential=credential, source=source, rate=rate, concurrency=concurrency)
        )
        return path

    def run(self, dest: Path, *extra: str, state_dir: Path | None = None) -> RunResult:
        """`aircall-dest run DEST --json` under GNU time, with a fresh outcome log."""
        state = state_dir or self.work / f"state-{self.next_id()}"
        report = self.work / f"time-{self.next_id()}.txt"
        command = ["/usr/bin/time", "-v", "-o", str(report), str(BIN), "run", str(dest), "--json", "--state-dir", str(state), *extra]
        started = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        # 3 = finished with some records dead-lettered or invalid: still a measurement.
        if done.returncode not in (0, 3):
            raise Unmeasurable(f"`run {dest.name}` exited {done.returncode}: {done.stderr.strip()[-400:]}")
        try:
            summary = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError) as err:
            raise Unmeasurable(f"`run --json` printed no summary: {done.stdout[-300:]!r}") from err
        return RunResult(summary, wall, parse_rss_mb(report.read_text()))

    def bodies(self, dest: Path, count: int) -> Path:
        """The request bodies `preview` shows for `dest` (the bytes `run` sends), one per line."""
        done = subprocess.run(
            [str(BIN), "preview", str(dest), "--limit", str(count)], env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise Unmeasurable(f"preview failed: {done.stderr.strip()}")
        path = self.work / f"bodies-{self.next_id()}.jsonl"
        lines = [json.loads(line)["body"] for line in done.stdout.splitlines() if line.strip()]
        if len(lines) != count or any("\n" in body for body in lines):
            raise Unmeasurable(f"preview gave {len(lines)} one-line bodies, expected {count}")
        path.write_text("".join(body + "\n" for body in lines))
        return path

    def script(self, kind: str, url: str, bodies: Path) -> dict:
        """Runs the curl loop or the Python `requests` script; returns its JSON counts."""
        env = dict(os.environ, API_ID=SANDBOX_ID, API_TOKEN=SANDBOX_TOKEN)
        if kind == "curl":
            command = ["bash", str(REPO / "bench" / "naive_curl.sh"), url, str(bodies)]
        else:
            command = [sys.executable, str(REPO / "bench" / "naive_requests.py"), url, str(bodies)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise Unmeasurable(f"the {kind} script failed: {done.stderr.strip()[-300:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def setup_campaigns(self, sandbox: Sandbox, users: int) -> list[int]:
        """Creates `users` sandbox users, each with a dialer campaign holding one seed number."""
        ids = []
        for u in range(users):
            answer = sandbox.call(
                "POST", "/v2/users", {"email": f"agent{u}@example.com", "first_name": "Agent", "last_name": f"No{u}"}
            )
            user_id = answer["user"]["id"]  # type: ignore[index]
            sandbox.call("POST", f"/v1/users/{user_id}/dialer_campaign", {"phone_numbers": ["+1800555%04d" % u]})
            ids.append(user_id)
        return ids

    def section(self, name: str, body) -> None:
        before = load_average()
        log(f"{name} (load {before})")
        try:
            body()
        except Unmeasurable as err:
            self.failures.append(f"{name}: {err}")
            self.rows.append(Row(name, "could not measure", str(err), result="NOT MEASURED"))
            log(f"  could not measure: {err}")
        self.loads.append((name, f"{before} → {load_average()}"))

    # -- 1. rate-limit efficiency ----------------------------------------------------------

    def rate_limits(self) -> None:
        for limit, records in self.scale["rate"].items():
            self.rate_limit(limit, records)

    def rate_limit(self, limit: int, records: int) -> None:
        source = write_contacts(self.work / "inputs" / f"contacts-{records}.jsonl", records)
        with Sandbox(self, limit) as sandbox:
            credential = self.credential_for(sandbox)
            dest = self.destination(CONTACTS_TOML, source, credential, rate=limit, concurrency=4)
            log(f"  runner at {limit}/min: {records} records (~{records * 60 / limit:.0f} s)")
            result = self.run(dest)
            journal = [e for e in sandbox.journal() if e["path"] == "/v1/contacts"]
            bodies = self.bodies(dest, records)
        summary = result.summary
        times = sorted(to_rfc3339_seconds(e["time"]) for e in journal)
        sandbox_429 = sum(1 for e in journal if e["status"] == 429)
        if len(times) < 2 or times[-1] <= times[0]:
            raise Unmeasurable(f"the sandbox journal holds {len(times)} requests, too few to time")
        # N requests span N - 1 intervals: the rate between the first and the last arrival.
        per_minute = (len(times) - 1) * 60.0 / (times[-1] - times[0])
        ratio = per_minute / limit
        by_duration = summary["requests"] * 60.0 / result.seconds / limit
        ours = (
            f"{ratio:.3f} ({per_minute:.1f}/min; requests÷duration {by_duration:.3f}); "
            f"429s: {summary['http_429']} (--json), {sandbox_429} (sandbox); delivered {summary['delivered']}/{records}"
        )
        scripts = {}
        for kind in ("curl", "python"):
            with Sandbox(self, limit) as sandbox:
                log(f"  {kind} script at {limit}/min")
                counts = self.script(kind, sandbox.url + "/v1/contacts", bodies)
                seen_429 = sum(1 for e in sandbox.journal() if e["status"] == 429)
            scripts[kind] = (
                f"delivered {counts['delivered']}/{records}, 429s: {counts['http_429']} "
                f"(sandbox {seen_429}), {counts['seconds']:.1f} s"
            )
        met = ratio >= 0.98 and summary["http_429"] == 0 and sandbox_429 == 0 and summary["delivered"] == records
        self.rows.append(
            Row(
                "1. Rate limit",
                f"limit {limit}/min, {records} records: achieved ÷ limit, 429s",
                ours,
                curl=scripts["curl"],
                python=scripts["python"],
                target="≥ 0.98, zero 429s",
                result="met" if met else "MISSED",
            )
        )

    # -- 2. throughput ---------------------------------------------------------------------

    def throughput(self) -> None:
        scale = self.scale
        source = write_contacts(self.work / "inputs" / f"contacts-{scale['throughput']}.jsonl", scale["throughput"])

        # The scripts are sequential, so one figure each, shown on every row.
        with Sandbox(self, 0) as sandbox:
            credential = self.credential_for(sandbox)
            dest = self.destination(CONTACTS_TOML, source, credential, rate=0, concurrency=1)
            bodies = self.bodies(dest, max(scale["curl_records"], scale["python_records"]))
        curl_bodies = self.work / "bodies-curl.jsonl"
        with open(bodies) as full, open(curl_bodies, "w") as out:
            for _, line in zip(range(scale["curl_records"]), full):
                out.write(line)
        for kind, path, count in (("curl", curl_bodies, scale["curl_records"]), ("python", bodies, scale["python_records"])):
            with Sandbox(self, 0) as sandbox:
                log(f"  {kind} script, {count} records")
                counts = self.script(kind, sandbox.url + "/v1/contacts", path)
            if counts["delivered"] != count:
                raise Unmeasurable(f"the {kind} script delivered {counts['delivered']} of {count}")
            self.script_rates[kind] = counts["delivered"] / counts["seconds"]
        best_script = max(self.script_rates.values())
        curl_text = f"{thousands(self.script_rates['curl'])} rec/s"
        python_text = f"{thousands(self.script_rates['python'])} rec/s"

        with open(bodies) as lines:
            wrk_body = lines.readline().rstrip("\n")
        lua = self.work / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "{AUTH_HEADER}"\n'
            f"wrk.body = {json.dumps(wrk_body)}\n"
        )

        for concurrency in CONCURRENCIES:
            # One run of 10,000 records lasts well under a second against wrk's five, so a single
            # run is a draw of the machine's noise; the median of a few, each shown, is the figure.
            rates, peak_rss = [], 0.0
            for round_no in range(1, RUNNER_ROUNDS + 1):
                with Sandbox(self, 0) as sandbox:
                    credential = self.credential_for(sandbox)
                    dest = self.destination(CONTACTS_TOML, source, credential, rate=0, concurrency=concurrency)
                    log(f"  runner, concurrency {concurrency}, {scale['throughput']} records (run {round_no} of {RUNNER_ROUNDS})")
                    result = self.run(dest)
                if result.summary["delivered"] != scale["throughput"]:
                    raise Unmeasurable(f"the runner delivered {result.summary['delivered']} of {scale['throughput']}")
                rates.append(result.summary["delivered"] / result.seconds)
                peak_rss = max(peak_rss, result.rss_mb)
            ours_rate = statistics.median(rates)
            with Sandbox(self, 0) as sandbox:
                log(f"  wrk, {concurrency} connections, {scale['wrk_seconds']} s")
                wrk_rate, wrk_errors = self.wrk(sandbox.url + "/v1/contacts", lua, concurrency, scale["wrk_seconds"])
            wrk_text = f"{thousands(wrk_rate)} req/s" + (f" ({wrk_errors} non-2xx)" if wrk_errors else "")
            of_wrk = ours_rate / wrk_rate
            over_scripts = ours_rate / best_script
            met = of_wrk >= 0.5 and over_scripts >= 10
            self.rows.append(
                Row(
                    "2. Throughput",
                    f"limit off, concurrency {concurrency}, 1 record/request ({thousands(scale['throughput'])} records)",
                    f"{thousands(ours_rate)} rec/s ({of_wrk:.0%} of wrk, {over_scripts:.1f}× best script; median of "
                    f"{', '.join(thousands(rate) for rate in rates)}); RSS {peak_rss:.1f} MB",
                    wrk=wrk_text,
                    curl=curl_text,
                    python=python_text,
                    target="≥ 50% of wrk, ≥ 10× scripts",
                    result="met" if met else "MISSED",
                )
            )

        # Batching: the sandbox, like Aircall, takes JSON objects only, so arrays go to the one
        # endpoint that takes many records per call: a user's dialer campaign numbers.
        users = scale["batched_users"]
        per_user = scale["batched"] // users
        for concurrency in CONCURRENCIES:
            with Sandbox(self, 0) as sandbox:
                ids = self.setup_campaigns(sandbox, users)
                numbers = write_dialer_numbers(self.work / f"dialer-{self.next_id()}.jsonl", ids, per_user)
                credential = self.credential_for(sandbox)
                dest = self.destination(DIALER_TOML, numbers, credential, rate=0, concurrency=concurrency)
                log(f"  runner, concurrency {concurrency}, {users * per_user} records in batches of 100")
                result = self.run(dest)
            delivered = result.summary["delivered"]
            if delivered != users * per_user:
                raise Unmeasurable(f"the batched run delivered {delivered} of {users * per_user}: {result.summary}")
            ours_rate = delivered / result.seconds
            requests_rate = result.summary["requests"] / result.seconds
            over_scripts = ours_rate / best_script
            self.rows.append(
                Row(
                    "2. Throughput",
                    f"limit off, concurrency {concurrency}, group_by batches of 100 ({thousands(users * per_user)} records)",
                    f"{thousands(ours_rate)} rec/s ({thousands(requests_rate)} req/s, {over_scripts:.0f}× best script); RSS {result.rss_mb:.1f} MB",
                    curl=curl_text,
                    python=python_text,
                    target="≥ 10× scripts",
                    result="met" if over_scripts >= 10 else "MISSED",
                )
            )

        # Diagnostic: the same unbatched run with the outcome log on a RAM disk, which takes the
        # per-line fsync out of the picture (see docs/benchmarks.md).
        shm = Path("/dev/shm")
        if shm.is_dir() and os.access(shm, os.W_OK):
            state = Path(tempfile.mkdtemp(prefix="aircall-dest-bench-", dir=shm))
            try:
                with Sandbox(self, 0) as sandbox:
                    credential = self.credential_for(sandbox)
                    dest = self.destination(CONTACTS_TOML, source, credential, rate=0, concurrency=32)
                    log("  diagnostic: concurrency 32 with the outcome log on /dev/shm")
                    result = self.run(dest, state_dir=state / "state")
            finally:
                shutil.rmtree(state, ignore_errors=True)
            ours_rate = result.summary["delivered"] / result.seconds
            self.rows.append(
                Row(
                    "2. Throughput",
                    "diagnostic: concurrency 32, 1 record/request, outcome log on tmpfs (fsync ≈ free)",
                    f"{thousands(ours_rate)} rec/s",
                    result="diagnostic",
                )
            )

    def wrk(self, url: str, lua: Path, connections: int, seconds: int) -> tuple[float, int]:
        threads = min(2, connections)
        done = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(lua), url],
            capture_output=True,
            text=True,
        )
        match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        if done.returncode != 0 or not match:
            raise Unmeasurable(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
        return float(match.group(1)), int(errors.group(1)) if errors else 0

    # -- 3. memory -------------------------------------------------------------------------

    def memory(self) -> None:
        small, large = self.scale["memory"]
        dry = {}
        for count in (small, large):
            source = write_contacts(self.work / "inputs" / f"contacts-{count}.jsonl", count)
            dest = self.destination(CONTACTS_TOML, source, "not-needed-for-dry-run", rate=0, concurrency=32)
            log(f"  run --dry-run, {count} records")
            result = self.run(dest, "--dry-run")
            dry[count] = result
        self.memory_rows("run --dry-run (contacts template)", dry, small, large)

        per_user = self.scale["memory_users_per"]
        sent = {}
        for count in (small, large):
            users = max(1, count // per_user)
            with Sandbox(self, 0) as sandbox:
                ids = self.setup_campaigns(sandbox, users)
                numbers = write_dialer_numbers(self.work / f"dialer-{self.next_id()}.jsonl", ids, per_user)
                credential = self.credential_for(sandbox)
                dest = self.destination(DIALER_TOML, numbers, credential, rate=0, concurrency=32)
                log(f"  run, {users * per_user} records in batches of 100")
                result = self.run(dest)
            if result.summary["delivered"] != users * per_user:
                raise Unmeasurable(f"the memory run delivered {result.summary['delivered']} of {users * per_user}")
            sent[count] = result
        self.memory_rows("run, limit off, group_by batches of 100", sent, small, large)

    def memory_rows(self, what: str, results: dict[int, RunResult], small: int, large: int) -> None:
        low, high = results[small].rss_mb, results[large].rss_mb
        # Flat: the 100× larger input may cost a few MB more (allocator, longer-lived buffers), not
        # a share of its size — a byte per extra record alone would add about 1 MB, and holding the
        # records would add hundreds. (A relative bound, 1.25× + 2 MB, misjudged a 12 → 17 MB run.)
        flat = high - low <= FLAT_GROWTH_MB
        for count in (small, large):
            r = results[count]
            rate = r.summary["records_read"] / r.seconds if r.seconds > 0 else 0.0
            met = r.rss_mb < MEMORY_LIMIT_MB and flat
            self.rows.append(
                Row(
                    "3. Memory",
                    f"peak RSS, {what}, {thousands(count)} records",
                    f"{r.rss_mb:.1f} MB ({thousands(rate)} rec/s, {r.wall:.1f} s)",
                    target=f"< {MEMORY_LIMIT_MB:.0f} MB and flat",
                    result=("met" if met else "MISSED") + ("" if count == small else f" ({high / low:.2f}× the small input)"),
                )
            )

    # -- 4. wizard ---------------------------------------------------------------------------

    def wizard(self) -> None:
        """The wizard's own benchmark (tests/it/tui_bench.rs, by the TUI's authors), read back."""
        if not (REPO / "tests" / "it" / "tui_bench.rs").exists():
            for what, target in (
                ("time to first frame, 1 GB input", "< 200 ms"),
                ("keystroke to frame, 200x60, 100-record batch in the pane", "< 16 ms"),
            ):
                self.rows.append(
                    Row("4. Wizard", what, "not measured: wizard benchmark not yet merged", target=target, result="not measured")
                )
            return
        log("  cargo test --release --test it tui_bench:: -- --ignored --nocapture --test-threads=1")
        done = subprocess.run(
            ["cargo", "test", "--release", "--quiet", "--test", "it", "tui_bench::", "--", "--ignored", "--nocapture", "--test-threads=1"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise Unmeasurable(f"tui_bench exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}")
        self.wizard_rows(done.stdout)

    def wizard_rows(self, output: str) -> None:
        """Reads tui_bench's lines: `NAME: n=… mean=… p50=… p99=… max=…` and `first frame …: T`."""

        def find(pattern: str) -> re.Match:
            return printed("tui_bench", output, pattern)

        stats = r"mean=(\S+) p50=(\S+) p99=(\S+) max=(\S+)"
        edit = [milliseconds(v) for v in find(r"edit a field[^:]*: n=\d+ " + stats).groups()]
        scroll = [milliseconds(v) for v in find(r"scroll the batch body\s*: n=\d+ " + stats).groups()]
        size = find(r"first frame on a ([\d.]+ GB)").group(1)
        first = milliseconds(find(r"first frame \(dataset being read\): (\S+)").group(1))
        loaded = milliseconds(find(r"first frame with format, attributes and sample pane data: (\S+)").group(1))
        self.rows.append(
            Row(
                "4. Wizard",
                f"time to first frame, {size} CSV (tests/it/tui_bench.rs)",
                f"{first:.1f} ms (\"reading…\"); {loaded:.1f} ms with format, attributes and sample pane",
                target="< 200 ms",
                result="met" if loaded < 200 else "MISSED",
            )
        )
        self.rows.append(
            Row(
                "4. Wizard",
                "keystroke to frame, 200x60, 100-record batch in the pane (tests/it/tui_bench.rs)",
                f"edit (pane rebuilt): mean {edit[0]:.1f} ms, p99 {edit[2]:.1f}, max {edit[3]:.1f}; "
                f"scroll: mean {scroll[0]:.1f} ms, p99 {scroll[2]:.1f}",
                target="< 16 ms",
                result="met (p99)" if edit[2] < 16 and scroll[2] < 16 else "MISSED (p99)",
            )
        )

    # -- 5. start-up -----------------------------------------------------------------------

    def startup(self) -> None:
        runs = self.scale["startup_runs"]
        commands = {
            "aircall-dest --help": [str(BIN), "--help"],
            "aircall-dest validate assets/examples/contacts.toml": [str(BIN), "validate", "assets/examples/contacts.toml"],
        }
        for label, command in commands.items():
            check = subprocess.run(command, cwd=REPO, env=self.env, capture_output=True)
            if check.returncode != 0:
                raise Unmeasurable(f"`{label}` exited {check.returncode}: {check.stderr.decode(errors='replace').strip()}")
            if shutil.which("hyperfine"):
                export = self.work / f"hyperfine-{self.next_id()}.json"
                done = subprocess.run(
                    ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--export-json", str(export), " ".join(command)],
                    cwd=REPO,
                    env=self.env,
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    raise Unmeasurable(f"hyperfine failed: {done.stderr.strip()}")
                result = json.loads(export.read_text())["results"][0]
                mean, stddev, low = result["mean"] * 1000, result["stddev"] * 1000, result["min"] * 1000
                how = f"hyperfine, {runs} runs"
            else:
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    subprocess.run(command, cwd=REPO, env=self.env, capture_output=True)
                    samples.append((time.perf_counter() - started) * 1000)
                mean = sum(samples) / len(samples)
                stddev = (sum((s - mean) ** 2 for s in samples) / len(samples)) ** 0.5
                low = min(samples)
                how = f"loop of {runs} runs"
            self.rows.append(
                Row("5. Start-up", f"`{label}` wall time ({how})", f"{mean:.1f} ms ± {stddev:.1f} (min {low:.1f})")
            )

    # -- report ----------------------------------------------------------------------------

    # -- 6. sync ---------------------------------------------------------------------------

    def sync(self) -> None:
        """examples/bench_sync.rs (plan, unchanged run, day 2 against the sandbox), read back."""
        rows = self.scale["sync_rows"]
        log("  cargo build --release --example bench_sync")
        built = subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--example", "bench_sync"], cwd=REPO, capture_output=True, text=True
        )
        if built.returncode != 0:
            raise Unmeasurable(f"building bench_sync failed: {built.stderr.strip()[-400:]}")
        log(f"  bench_sync --rows {rows}")
        done = subprocess.run(
            [str(REPO / "target" / "release" / "examples" / "bench_sync"), "--rows", str(rows)],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise Unmeasurable(f"bench_sync exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}")
        self.sync_rows(done.stdout)

    def sync_rows(self, output: str) -> None:
        def find(pattern: str) -> re.Match:
            return printed("bench_sync", output, pattern)

        plan = find(r"plan over (\d+) rows against (\d+) keys: ([\d.]+) s, peak RSS ([\d.]+) MB.*?unchanged (\d+)")
        rows, keys, seconds, rss, unchanged = plan.groups()
        seconds_f, rss_f = float(seconds), float(rss)
        met = seconds_f < SYNC_PLAN_SECONDS and rss_f < SYNC_PLAN_RSS_MB and unchanged == rows
        self.rows.append(
            Row(
                "6. Sync",
                f"plan over {thousands(int(rows))} rows against {thousands(int(keys))} keys",
                f"{seconds_f:.1f} s, peak RSS {rss_f:.1f} MB ({thousands(int(unchanged))} unchanged)",
                target=f"< {SYNC_PLAN_SECONDS:.0f} s, < {SYNC_PLAN_RSS_MB:.0f} MB",
                result="met" if met else "MISSED",
            )
        )
        run = find(r"run of the unchanged export: (\d+) request\(s\).*?([\d.]+) s, peak RSS ([\d.]+) MB")
        requests, seconds, rss = run.groups()
        self.rows.append(
            Row(
                "6. Sync",
                f"run of the unchanged export ({thousands(int(rows))} rows)",
                f"{requests} requests ({float(seconds):.1f} s, peak RSS {float(rss):.1f} MB)",
                target="0 requests",
                result="met" if requests == "0" else "MISSED",
            )
        )
        day = find(r"requests per changed record: ([\d.]+) \((\d+) writes for (\d+) changed rows")
        per, writes, changed = day.groups()
        self.rows.append(
            Row(
                "6. Sync",
                "requests per changed record, day 2 of 1,000 contacts",
                f"{float(per):.2f} ({writes} writes for {changed} changed rows)",
                target="1.0 for a scalar change",
                result="met" if float(per) <= 1.0 else "MISSED",
            )
        )
        one = float(find(r"changed rows at concurrency 1: .*?, (\d+) rows/s").group(1))
        eight = float(find(r"changed rows at concurrency 8: .*?, (\d+) rows/s").group(1))
        ratio = eight / one if one > 0 else 0.0
        self.rows.append(
            Row(
                "6. Sync",
                "10,000 changed rows, limit off: concurrency 8 vs 1",
                f"{thousands(int(eight))} vs {thousands(int(one))} rows/s ({ratio:.1f}x)",
                target=f"~8x (the concurrency), at least {SYNC_CONCURRENCY_GAIN:.0f}x",
                result="met" if ratio >= SYNC_CONCURRENCY_GAIN else "MISSED",
            )
        )

    def machine(self) -> list[str]:
        cpu = "unknown"
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        if BIN != REPO / "target" / "release" / "aircall-dest":
            commit = f"{commit} (suite), binary {BIN}"
        state_fs = subprocess.run(["df", "-T", str(self.work)], capture_output=True, text=True).stdout.strip().splitlines()
        return [
            f"date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit or 'unknown'}, "
            f"scale {'quick' if self.quick else 'full'}",
            f"machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}",
            "memory (free -h):",
            *("    " + line for line in memory.splitlines()),
            f"work folder (inputs, outcome logs): {self.work} on {state_fs[-1].split()[1] if len(state_fs) > 1 else 'unknown'}",
            "load average (1, 5, 15 min) before → after each section:",
            *(f"    {name}: {loads}" for name, loads in self.loads),
        ]

    def table(self) -> str:
        headers = ("Section", "Measurement", "aircall-dest", "wrk (ceiling)", "curl loop", "Python requests", "Target", "Result")
        rows = [(r.section, r.measurement, r.ours, r.wrk, r.curl, r.python, r.target, r.result) for r in self.rows]
        widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

        def line(cells) -> str:
            return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

        return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)])


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Runs the aircall-dest benchmark suite and prints one table (see docs/benchmarks.md).",
    )
    parser.add_argument("--quick", action="store_true", help="smaller record counts (about 3 minutes)")
    parser.add_argument(
        "--only",
        action="append",
        choices=("rate", "throughput", "memory", "wizard", "startup", "sync"),
        help="run only this section (repeatable)",
    )
    parser.add_argument(
        "--work",
        default=str(REPO / "target" / "bench-work"),
        help="folder for inputs, outcome logs and logs (default target/bench-work, on the same disk as a real state folder)",
    )
    parser.add_argument("--out", help="also write the report (machine, table, notes) to this Markdown file")
    parser.add_argument(
        "--bin",
        help="measure this aircall-dest binary instead of target/release/aircall-dest (e.g. another branch's build)",
    )
    args = parser.parse_args()
    global BIN
    if args.bin:
        BIN = Path(args.bin).resolve()
    if not BIN.exists():
        print(f"{BIN} is missing: run bench/run (it builds it) or `cargo build --release`", file=sys.stderr)
        return 1

    # The inputs, outcome logs and the wizard's 1 GB file need room; a full disk would make the
    # runs fail half-way (and take other work on the machine down with them).
    work_parent = Path(args.work).resolve().parent
    work_parent.mkdir(parents=True, exist_ok=True)
    for where, need in ((work_parent, 1.0), (Path(tempfile.gettempdir()), 1.5)):
        free = shutil.disk_usage(where).free / 2**30
        if free < need:
            print(f"only {free:.1f} GiB free under {where}; the suite needs {need} GiB there", file=sys.stderr)
            return 1
    suite = Suite(args)
    sections = {
        "rate": ("1. Rate limit", suite.rate_limits),
        "throughput": ("2. Throughput", suite.throughput),
        "memory": ("3. Memory", suite.memory),
        "wizard": ("4. Wizard", suite.wizard),
        "startup": ("5. Start-up", suite.startup),
        "sync": ("6. Sync", suite.sync),
    }
    started = time.perf_counter()
    for key, (name, body) in sections.items():
        if args.only and key not in args.only:
            continue
        suite.section(name, body)
    elapsed = time.perf_counter() - started

    report = "\n".join(
        [
            *suite.machine(),
            f"suite time: {elapsed / 60:.1f} min",
            "",
            suite.table(),
            *([""] + [f"note: {n}" for n in suite.notes] if suite.notes else []),
            *([""] + [f"could not measure: {f}" for f in suite.failures] if suite.failures else []),
        ]
    )
    print(report)
    out = Path(args.out) if args.out else suite.work / "latest.md"
    out.write_text(report + "\n")
    log(f"report written to {out}")
    return 1 if suite.failures else 0


if __name__ == "__main__":
    sys.exit(main())
