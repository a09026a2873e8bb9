#!/usr/bin/env python3
"""`trimtab run` tunes a real PgBouncer end to end: default_pool_size over the admin console (kind
pgbouncer), under a pgbench load through PgBouncer, scoring tps from two built-in metrics sources
and no exporter: PgBouncer's SHOW STATS and SHOW POOLS (format pgbouncer) and PostgreSQL's
pg_stat_database (format postgres). Runs inside pg_virtualenv (a throwaway PostgreSQL cluster, reached
through the PG* variables it sets). PgBouncer runs as the postgres user: it refuses to run as root.

It checks that applies happen and are in force (SHOW CONFIG), that the pool runs within each
applied size from its `applied` record to the next `apply` (the agent waits until a smaller pool's
server connections are recycled before it measures; SHOW POOLS is sampled throughout), that an
apply that cannot reach the
console (the agent's connection goes through a proxy the test turns into a black hole) is journaled
as apply_failed with the previous value still in force, and that at the end SHOW CONFIG holds the
journal's last applied value, which differs from the baseline.

Usage: pgbouncer_tuning_test.py TRIMTAB
"""

import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from service_harness import free_port, read_journal, wait_for

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
PG_BIN = "/usr/lib/postgresql/15/bin"
BASELINE_POOL = 1


class Proxy:
    """Forwards 127.0.0.1:port to PgBouncer; while `blackhole` is set it accepts connections and
    never answers them (a console that hangs)."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.blackhole = threading.Event()
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.blackhole.is_set():
                self.held.append(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _relay(client, upstream):
        with client, upstream:
            sockets = [client, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [])
                try:
                    for source in readable:
                        data = source.recv(65536)
                        if not data:
                            return
                        (upstream if source is client else client).sendall(data)
                except OSError:
                    return

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()
        for s in self.held:
            s.close()


class PgBouncerTuning(unittest.TestCase):
    def setUp(self):
        for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"):
            if name not in os.environ:
                self.skipTest("runs inside pg_virtualenv, which sets " + name)
        self.processes = []
        self.proxy = None
        self.log = None
        self.load_log = None
        self.dir = tempfile.mkdtemp(prefix="trimtab-pgbouncer-")
        os.chmod(self.dir, 0o755)
        postgres = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if postgres:
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
        self.bouncer_port = free_port()
        self.start_bouncer(postgres)

        # A small pgbench database on the cluster, then a select-only load through PgBouncer.
        subprocess.run([os.path.join(PG_BIN, "pgbench"), "-i", "-s", "2", "-q", "-n"], check=True,
                       capture_output=True, timeout=120)
        self.load_log = open(os.path.join(self.dir, "pgbench.log"), "w")
        self.load = self.spawn([os.path.join(PG_BIN, "pgbench"), "-h", "127.0.0.1", "-p", str(self.bouncer_port),
                                "-U", os.environ["PGUSER"], "-c", "16", "-j", "2", "-T", "600", "-S", "-n",
                                os.environ.get("PGDATABASE", "postgres")],
                               stdout=self.load_log, stderr=subprocess.STDOUT)

        self.proxy = Proxy(self.bouncer_port)

        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        with open(self.config, "w") as f:
            f.write(f"""
target:
  metrics:
    - {{name: pool, format: pgbouncer, dsn: "host=127.0.0.1 port={self.bouncer_port} user=trimtab_admin",
       interval: 250ms, timeout: 2s}}
    - {{name: db, format: postgres, timeout: 2s}}
signals:
  tps: {{rate: pgbouncer_stats_sql_transactions_pooled_total}}
  waiting: {{gauge: pgbouncer_pools_client_waiting_connections}}
  commits: {{rate: pg_stat_database_xact_commit, source: db}}
objective: {{maximize: tps}}
params:
  pool: {{type: int, min: 1, max: 16, default: {BASELINE_POOL}}}
solver: {{kind: bayes, budget: 30, seed: 3}}
window: {{settle: 500ms, duration: 2s, min_samples: 5, remeasure_every: 0, in_effect_limit: 5s}}
guardrails:
  max_delta: {{pool: 15}}
  max_updates_per_second: 2
  min_dwell: 0s
  required_improvement: 5%
  max_rollbacks_per_hour: 100
adapters:
  - name: bouncer
    kind: pgbouncer
    dsn: "host=127.0.0.1 port={self.proxy.port} user=trimtab_admin"
    names: {{pool: default_pool_size}}
    params: [pool]
    timeout: 1s
state: {{dir: {self.state}}}
control: {{listen: "127.0.0.1:{free_port()}", token_file: {self.dir}/token}}
""")

    def start_bouncer(self, postgres):
        with open(os.path.join(self.dir, "users.txt"), "w") as f:
            f.write(f'"{os.environ["PGUSER"]}" ""\n"trimtab_admin" ""\n')
        host = os.environ["PGHOST"] if not os.environ["PGHOST"].startswith("/") else "127.0.0.1"
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
* = host={host} port={os.environ["PGPORT"]} user={os.environ["PGUSER"]} password={os.environ["PGPASSWORD"]}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.bouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir}/users.txt
admin_users = trimtab_admin
pool_mode = transaction
default_pool_size = {BASELINE_POOL}
max_client_conn = 200
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")
        if postgres:
            for name in ("users.txt", "pgbouncer.ini"):
                os.chown(os.path.join(self.dir, name), postgres.pw_uid, postgres.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"] if postgres else []
        subprocess.run(prefix + ["pgbouncer", "-d", os.path.join(self.dir, "pgbouncer.ini")], check=True, timeout=30)
        wait_for(lambda: self.show_config("default_pool_size") is not None, 15, "PgBouncer")

    def tearDown(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
            process.wait()
        if self.proxy:
            self.proxy.close()
        for log in (self.log, self.load_log):
            if log:
                log.close()
        pid_file = os.path.join(self.dir, "pgbouncer.pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                pid = int(f.read().strip() or 0)
            if pid > 0:
                try:
                    os.kill(pid, signal.SIGTERM)
                    deadline = time.monotonic() + 5
                    while time.monotonic() < deadline:
                        os.kill(pid, 0)
                        time.sleep(0.05)
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if os.environ.get("TRIMTAB_KEEP_TEST_DIR"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------------

    def spawn(self, argv, **popen):
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **popen)
        self.processes.append(process)
        return process

    def show_config(self, key):
        """SHOW CONFIG's value of `key` over the test's own psql, or None when PgBouncer does not answer."""
        env = dict(os.environ, PGCONNECT_TIMEOUT="2")
        result = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.bouncer_port), "-U", "trimtab_admin",
                                 "-d", "pgbouncer", "-X", "-A", "-t", "-F", "|", "-c", "SHOW CONFIG"],
                                capture_output=True, text=True, timeout=10, env=env)
        if result.returncode != 0:
            return None
        for line in result.stdout.splitlines():
            fields = line.split("|")
            if fields[0] == key:
                return fields[1]
        return None

    def server_connections(self):
        """The server connections of the pgbench database's pools (SHOW POOLS' sv_* states), or None."""
        env = dict(os.environ, PGCONNECT_TIMEOUT="2")
        result = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.bouncer_port), "-U", "trimtab_admin",
                                 "-d", "pgbouncer", "-X", "-A", "-F", "|", "-c", "SHOW POOLS"],
                                capture_output=True, text=True, timeout=10, env=env)
        if result.returncode != 0:
            return None
        lines = [line.split("|") for line in result.stdout.splitlines() if "|" in line]
        if not lines:
            return None
        header, rows = lines[0], lines[1:]
        database = os.environ.get("PGDATABASE", "postgres")
        return sum(int(row[i]) for row in rows if row[0] == database
                   for i, name in enumerate(header) if name.startswith("sv_"))

    def sample_pool(self, samples, stop):
        """Appends (start, end, server connections) in Unix ms to `samples` until `stop` is set."""
        while not stop.is_set():
            start = time.time() * 1000
            servers = self.server_connections()
            if servers is not None:
                samples.append((start, time.time() * 1000, servers))
            stop.wait(0.2)

    def of_type(self, kind):
        return [r for r in read_journal(self.state) if r["type"] == kind]

    def agent_log(self):
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()

    # --- the test ---------------------------------------------------------------------------

    def test_tunes_default_pool_size(self):
        self.log = open(os.path.join(self.dir, "agent.log"), "w")
        samples, stop_sampling = [], threading.Event()
        sampler = threading.Thread(target=self.sample_pool, args=(samples, stop_sampling), daemon=True)
        sampler.start()
        agent = self.spawn([TRIMTAB, "run", self.config, "--create-token", "--on-exit", "leave"],
                           stdout=self.log, stderr=self.log)
        start = wait_for(lambda: self.of_type("start"), 30, "the agent to start")[0]
        self.assertEqual(start["baseline"], {"pool": BASELINE_POOL})

        # Applies happen, and each is in force when journaled.
        wait_for(lambda: len(self.of_type("applied")) >= 2 or agent.poll() is not None, 60, "two applies")
        self.assertIsNone(agent.poll(), self.agent_log())

        # An apply that cannot reach the console fails, and changes nothing.
        self.proxy.blackhole.set()
        applied_before = len(self.of_type("applied"))
        failed = wait_for(lambda: self.of_type("apply_failed"), 30, "an apply to fail")[0]
        self.assertEqual(len(self.of_type("applied")), applied_before)
        in_force = [r for r in self.of_type("applied") if r["seq"] < failed["seq"]][-1]["point"]["pool"]
        self.assertNotEqual(failed["point"]["pool"], in_force, failed)
        self.assertIn("adapter 'bouncer'", failed["error"])
        # The adapter's own deadline names the step that hung; on a starved machine the agent's guard
        # timer (the adapter's timeout) can fire first and say so instead. Either is the truth.
        self.assertRegex(failed["error"], r"timed out|no answer within")
        self.assertEqual(self.show_config("default_pool_size"), str(in_force), "the previous value is in force")
        self.proxy.blackhole.clear()

        # Tuning goes on; stop it while a value other than the baseline is in force (a candidate, or
        # a promoted incumbent), and leave that in force.
        wait_for(lambda: any(r["seq"] > failed["seq"] for r in self.of_type("applied")), 30,
                 "an apply after the failure")
        wait_for(lambda: self.of_type("applied")[-1]["point"]["pool"] != BASELINE_POOL, 60,
                 "a pool size other than the baseline in force")
        agent.send_signal(signal.SIGTERM)
        self.assertEqual(agent.wait(timeout=15), 0, self.agent_log())
        stop_sampling.set()
        sampler.join()
        self.check_pool_followed_each_apply(samples)

        last = self.of_type("applied")[-1]["point"]["pool"]
        self.assertEqual(self.show_config("default_pool_size"), str(last), "SHOW CONFIG holds the last apply")
        self.assertNotEqual(last, BASELINE_POOL)
        self.assertIsNone(self.load.poll(), "pgbench ran throughout")
        observations = [r for r in read_journal(self.state) if r["type"] == "observation"]
        self.assertTrue(any(r.get("value", 0) > 0 for r in observations), "tps was measured")
        # The same windows read PostgreSQL too (the db source): the transactions PgBouncer pooled.
        self.assertTrue(any((r["signals"].get("commits") or 0) > 0 for r in observations), observations[-1])
        # For the log: what was tried and how it scored.
        summary = ", ".join(f"{r['point']['pool']}: {r['value']:.0f} tps" for r in observations if "value" in r)
        print(f"\nbaseline pool {BASELINE_POOL}, last applied {last}; observed {summary}", file=sys.stderr)

    def check_pool_followed_each_apply(self, samples):
        """Between an `applied` record and the next `apply`, SHOW POOLS never counts more server
        connections than the applied size (reserve_pool_size is 0): the agent waited until a smaller
        pool was in effect before it told the loop, and so before the window."""
        records = read_journal(self.state)
        spans = []
        for i, record in enumerate(records):
            if record["type"] != "applied":
                continue
            later = [r["time"] for r in records[i + 1:] if r["type"] == "apply"]
            spans.append((record["time"], later[0] if later else float("inf"), record["point"]["pool"]))
        checked = 0
        for start, end, pool in spans:
            inside = [servers for begun, ended, servers in samples if start <= begun and ended < end]
            self.assertTrue(all(servers <= pool for servers in inside),
                            f"pool {pool} applied: SHOW POOLS counted {inside}")
            checked += len(inside)
        self.assertGreater(checked, 0, "SHOW POOLS was sampled while applied sizes were in force")
        waits = [(r["point"]["pool"], r["waited_ms"], r["confirmed"]) for r in self.of_type("in_effect")]
        print(f"\n{checked} SHOW POOLS samples within the applied sizes; waits for in effect "
              f"(pool, ms, confirmed): {waits}", file=sys.stderr)
        # A check the black-holed console could not answer is no pool over its size.
        over = [r for r in self.of_type("in_effect") if not r["confirmed"] and "over pool_size" in r["detail"]]
        self.assertEqual(over, [], "every smaller pool was in effect within in_effect_limit")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
