#!/usr/bin/env python3
"""`trimtab run` tunes a real PostgreSQL end to end with a postgres adapter (ALTER SYSTEM and
pg_reload_conf()): checkpoint_completion_target (context sighup) and work_mem (context user, in MB)
under a pgbench load, scoring transactions per second from pg_stat_database, read by the built-in
postgres metrics source (no exporter). Runs inside
pg_virtualenv (a throwaway cluster, reached through the PG* variables it sets).

It checks that applies happen and that at the end SHOW holds the journal's last applied values; and
that an adapter owning shared_buffers (a restart) stops the agent at start with the reason.

Usage: postgres_tuning_test.py TRIMTAB
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from service_harness import free_port, read_journal, wait_for

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
PG_BIN = "/usr/lib/postgresql/15/bin"


def psql(sql):
    result = subprocess.run(["psql", "-X", "-A", "-t", "-c", sql], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"{sql}: {result.stderr}")
    return result.stdout.strip()


def write_config(path, state, params, adapter_params, extra=""):
    with open(path, "w") as f:
        f.write(f"""
target:
  metrics: {{format: postgres, interval: 250ms, timeout: 2s}}   # the PG* variables
signals:
  tps: {{rate: pg_stat_database_xact_commit}}
objective: {{maximize: tps}}
params:
{params}
solver: {{kind: bayes, budget: 30, seed: 5}}
window: {{settle: 300ms, duration: 1500ms, min_samples: 4, remeasure_every: 0}}
guardrails:
  max_updates_per_second: 2
  min_dwell: 0s
  required_improvement: 5%
  max_rollbacks_per_hour: 100
adapters:
  - name: db
    kind: postgres
    params: [{adapter_params}]
    timeout: 3s
{extra}
state: {{dir: {state}}}
control: {{listen: "127.0.0.1:{free_port()}", token_file: {os.path.dirname(path)}/token}}
""")


class PostgresTuning(unittest.TestCase):
    def setUp(self):
        for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"):
            if name not in os.environ:
                self.skipTest("runs inside pg_virtualenv, which sets " + name)
        self.processes = []
        self.logs = []
        self.dir = tempfile.mkdtemp(prefix="trimtab-postgres-")
        psql("ALTER SYSTEM RESET ALL")
        psql("SELECT pg_reload_conf()")
        subprocess.run([os.path.join(PG_BIN, "pgbench"), "-i", "-s", "1", "-q", "-n"], check=True,
                       capture_output=True, timeout=120)
        self.logs.append(open(os.path.join(self.dir, "pgbench.log"), "w"))
        self.spawn([os.path.join(PG_BIN, "pgbench"), "-c", "4", "-j", "2", "-T", "600", "-S", "-n"],
                   stdout=self.logs[-1], stderr=subprocess.STDOUT)

    def tearDown(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
            process.wait()
        for log in self.logs:
            log.close()
        try:
            psql("ALTER SYSTEM RESET ALL")
            psql("SELECT pg_reload_conf()")
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, argv, **popen):
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **popen)
        self.processes.append(process)
        return process

    def run_agent(self, config, state, log_name):
        self.logs.append(open(os.path.join(self.dir, log_name), "w"))
        return self.spawn([TRIMTAB, "run", config, "--create-token", "--on-exit", "leave"],
                          stdout=self.logs[-1], stderr=self.logs[-1])

    def read_log(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def test_tunes_a_reload_setting_and_refuses_a_restart_setting(self):
        state = os.path.join(self.dir, "state")
        config = os.path.join(self.dir, "tuning.yaml")
        write_config(config, state,
                     "  target: {type: float, min: 0.5, max: 0.9, default: 0.9}\n"
                     "  mem: {type: int, min: 1, max: 64, default: 4}",
                     "target, mem",
                     "    names: {target: checkpoint_completion_target, mem: work_mem}\n    units: {mem: MB}")
        agent = self.run_agent(config, state, "agent.log")
        journal = lambda kind: [r for r in read_journal(state) if r["type"] == kind]
        start = wait_for(lambda: journal("start") or agent.poll() is not None, 30, "the agent to start")
        self.assertIsNone(agent.poll(), self.read_log("agent.log"))
        self.assertEqual(start[0]["baseline"], {"target": 0.9, "mem": 4})
        wait_for(lambda: len(journal("applied")) >= 3 or agent.poll() is not None, 60, "three applies")
        agent.send_signal(signal.SIGTERM)
        self.assertEqual(agent.wait(timeout=15), 0, self.read_log("agent.log"))
        self.assertEqual(journal("apply_failed"), [])
        applied = [r["point"] for r in journal("applied")]
        last = applied[-1]
        self.assertAlmostEqual(float(psql("SHOW checkpoint_completion_target")), last["target"], places=4)
        self.assertEqual(psql("SHOW work_mem"), f"{last['mem']}MB")
        # Tuned values reached the server. The last apply may be the way back to the default (a
        # candidate kept out, or the first of a switchback pair), so any apply off the default counts.
        self.assertTrue(any(p != {"target": 0.9, "mem": 4} for p in applied), applied)

        # A setting that needs a restart stops the agent at start, with the reason.
        config = os.path.join(self.dir, "restart.yaml")
        write_config(config, os.path.join(self.dir, "state-restart"),
                     "  buffers: {type: int, min: 16, max: 512, default: 128}", "buffers",
                     "    names: {buffers: shared_buffers}\n    units: {buffers: MB}")
        refused = self.run_agent(config, os.path.join(self.dir, "state-restart"), "restart.log")
        self.assertNotEqual(refused.wait(timeout=30), 0)
        self.assertIn("adapter 'db': shared_buffers (param buffers) needs a server restart (context postmaster)",
                      self.read_log("restart.log"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
