#!/usr/bin/env python3
"""The standalone agent tunes a real Redis: `trimtab run` sets maxmemory (param cache_mb, in MiB)
and maxmemory-policy through the redis adapter, as an ACL user with a password from a file, while
two redis-benchmark processes read and write random keys of 16 kB. The built-in redis metrics
source reads Redis's INFO as the same ACL user (no exporter): the objective is the hit ratio, under
a limit on used memory.

Checked: the agent reads the baseline from Redis, applies candidates, and an apply the server
refuses (CONFIG SET taken away from the agent's ACL user for a moment) is journaled as apply_failed
while Redis keeps its maxmemory; at the end Redis runs with the last applied configuration, which
is not the baseline. Every process started is stopped, whatever happens.

Usage: redis_tuning_test.py TRIMTAB
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from service_harness import free_port, read_journal, wait_for

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
MiB = 1024 * 1024
KEYS, VALUE_BYTES = 4000, 16000          # about 64 MiB when every key is cached
BASELINE_MB, MEMORY_LIMIT_MB = 8, 48
PASSWORD = "agent-pass-7Vq"

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: a child is killed when this test is (a CTest timeout), not left behind.
    _libc.prctl(1, signal.SIGKILL)


def spawn(args, log):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)


def stop(process, grace=10):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisTuning(unittest.TestCase):
    def setUp(self):
        self.started = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix="trimtab-redis-tuning-")
        self.log = open(os.path.join(self.dir, "processes.log"), "a")
        self.processes = []  # stopped in reverse order
        self.agent = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        stop(self.agent, grace=15)
        for process in reversed(self.processes):
            stop(process)
        self.log.close()
        if os.environ.get("KEEP_TEST_DIR"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------------

    def cli(self, *args):
        """redis-cli as the default user (no password); its output, stripped."""
        result = subprocess.run(["redis-cli", "-p", str(self.redis_port), *args], capture_output=True, text=True,
                                timeout=10)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def config_get(self, name):
        lines = self.cli("CONFIG", "GET", name).splitlines()
        self.assertEqual(len(lines), 2, lines)
        return lines[1]

    def start_redis(self):
        for _ in range(5):
            self.redis_port = free_port()
            redis = spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--daemonize", "no", "--dir", self.dir,
                           "--maxmemory", f"{BASELINE_MB}mb", "--maxmemory-policy", "allkeys-lru"], self.log)

            def ready():
                if redis.poll() is not None:
                    return "exited"
                try:
                    with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                        s.sendall(b"*1\r\n$4\r\nPING\r\n")
                        return s.recv(16).startswith(b"+PONG")
                except OSError:
                    return False
            if wait_for(ready, 10, "redis-server") is True:
                self.processes.append(redis)
                return
        self.fail("redis-server did not start")

    def start_load(self):
        # Writes and reads of random keys, looping until stopped: a cache whose hit ratio grows with
        # maxmemory until every key fits.
        common = ["redis-benchmark", "-p", str(self.redis_port), "-r", str(KEYS), "-n", "1000000", "-c", "2",
                  "-P", "2", "-l", "-q"]
        self.processes.append(spawn(common + ["-t", "set", "-d", str(VALUE_BYTES)], self.log))
        self.processes.append(spawn(common + ["-t", "get"], self.log))

    def write_config(self):
        password_file = os.path.join(self.dir, "redis-password")
        with open(password_file, "w") as f:
            f.write(PASSWORD + "\n")  # the adapter drops the line break
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.state = os.path.join(self.dir, "state")
        with open(self.config, "w") as f:
            f.write(f"""
target:
  metrics: {{format: redis, address: "127.0.0.1:{self.redis_port}", username: trimtab, password_file: {password_file},
            interval: 250ms, timeout: 1s}}
signals:
  hits:    {{rate: redis_keyspace_hits_total}}
  misses:  {{rate: redis_keyspace_misses_total}}
  used_mb: {{gauge: redis_memory_used_bytes, reduce: max, scale: {1 / MiB!r}}}
objective: {{maximize: hits / (hits + misses)}}
constraints: [used_mb <= {MEMORY_LIMIT_MB}]
params:
  cache_mb: {{type: int, min: 4, max: 96, default: {BASELINE_MB}}}
  policy:   {{type: categorical, choices: [allkeys-lru, allkeys-lfu, allkeys-random], default: allkeys-lru}}
solver: {{kind: bayes, budget: 12, seed: 3}}
window: {{settle: 1s, duration: 2s, min_samples: 5, remeasure_every: 0}}
guardrails:
  max_updates_per_second: 2
  min_dwell: 0s
  required_improvement: 5%
  max_rollbacks_per_hour: 30
  safe_mode_recovery: 5s
adapters:
  - name: cache
    kind: redis
    address: "127.0.0.1:{self.redis_port}"
    username: trimtab
    password_file: {password_file}
    timeout: 2s
    params: [cache_mb, policy]
    names: {{cache_mb: maxmemory, policy: maxmemory-policy}}
    units: {{cache_mb: mb}}
state: {{dir: {self.state}}}
control: {{listen: "127.0.0.1:{free_port()}", token_file: {self.dir}/token}}
""")

    def journal(self, kind=None):
        records = read_journal(self.state)
        return records if kind is None else [r for r in records if r["type"] == kind]

    def agent_log(self):
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()

    # --- the test ---------------------------------------------------------------------------

    def test_tunes_maxmemory_and_a_refused_apply_changes_nothing(self):
        self.start_redis()
        self.cli("ACL", "SETUSER", "trimtab", "on", ">" + PASSWORD, "+config|get", "+config|set", "+info")
        self.start_load()
        self.write_config()
        agent_log = open(os.path.join(self.dir, "agent.log"), "w")
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stdout=agent_log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      preexec_fn=_die_with_parent)
        agent_log.close()

        try:
            # The baseline comes from Redis, in MiB.
            start = wait_for(lambda: self.journal("start"), 20, "the agent's start")[0]
            self.assertEqual(start["baseline"], {"cache_mb": BASELINE_MB, "policy": "allkeys-lru"})

            # A refused apply: CONFIG SET is taken from the agent's user until the agent has failed once.
            wait_for(lambda: len([r for r in self.journal("applied") if r["purpose"] == "candidate"]) >= 2, 60,
                     "two candidates applied")
            self.cli("ACL", "SETUSER", "trimtab", "-config|set")
            try:
                failed = wait_for(lambda: self.journal("apply_failed"), 30, "an apply that fails")[0]
                maxmemory, policy = self.config_get("maxmemory"), self.config_get("maxmemory-policy")
            finally:
                self.cli("ACL", "SETUSER", "trimtab", "+config|set")
            before = [r for r in self.journal() if r["seq"] < failed["seq"] and r["type"] == "applied"][-1]
            self.assertIn("adapter 'cache': CONFIG SET maxmemory", failed["error"])
            self.assertIn("NOPERM", failed["error"])
            self.assertNotIn(PASSWORD, failed["error"])
            self.assertEqual(int(maxmemory), before["point"]["cache_mb"] * MiB, "Redis keeps the maxmemory in force")
            self.assertEqual(policy, before["point"]["policy"])

            done = wait_for(lambda: self.journal("done"), 120, "the study to finish")[-1]
        except AssertionError:
            print(self.agent_log()[-3000:], file=sys.stderr)
            raise

        # Redis runs with what the agent applied last: the best it found, not the baseline.
        records = self.journal()
        applied = [r for r in records if r["type"] == "applied"]
        self.assertGreaterEqual(len([r for r in applied if r["purpose"] == "candidate"]), 3)
        last = applied[-1]["point"]
        self.assertEqual(last, done["best"])
        self.assertEqual(int(self.config_get("maxmemory")), last["cache_mb"] * MiB)
        self.assertEqual(self.config_get("maxmemory-policy"), last["policy"])
        self.assertNotEqual(last, start["baseline"])
        self.assertNotEqual(int(self.config_get("maxmemory")), BASELINE_MB * MiB)

        # Stopped cleanly, it leaves the best in place (--on-exit best).
        self.agent.send_signal(signal.SIGTERM)
        self.assertEqual(self.agent.wait(timeout=15), 0, self.agent_log()[-3000:])
        self.assertEqual(int(self.config_get("maxmemory")), last["cache_mb"] * MiB)

        observations = [r for r in records if r["type"] == "observation"]
        baseline = next(r for r in observations if r["purpose"] == "baseline")
        print(f"\nredis tuning: {time.monotonic() - self.started:.1f} s, {len(applied)} applies "
              f"({len(self.journal('apply_failed'))} failed); hit ratio {baseline['value']:.3f} at "
              f"{start['baseline']} -> {done['best_value']:.3f} at {done['best']} "
              f"(limit {MEMORY_LIMIT_MB} MiB used)", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
