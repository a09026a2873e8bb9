#!/usr/bin/env python3
"""Security of the standalone agent, end to end with the real binary:

- the control server binds loopback by default;
- commands without the bearer token, or with a wrong one, are refused, and change nothing;
  oversized requests and floods are refused too;
- the token file and the state directory are created owner-only;
- secrets in the config (a Redis password, a password inside a libpq DSN) appear nowhere the agent
  writes: its log, its journal, /status, /metrics and the status page, even when the adapter's
  operations fail.

(The command adapter's argv-only execution is covered by unit.command_adapter, with the fault
suite's and the fuzzers' inputs.)

Usage: security_test.py TRIMTAB
"""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from service_harness import free_port, read_journal, start_test_service, stop, wait_for, write_tuning_config  # noqa: E402

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
REDIS_PASSWORD = "r3dis-Pa55-do-not-leak"
DSN_PASSWORD = "pg-Pa55-do-not-leak"
CHECKS = []


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def fetch(url, method="GET", data=None, headers=None, timeout=5):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def listening_addresses(port):
    """Local addresses of TCP sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in read_text(table).splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # LISTEN
                found.append(address)
    return found


class Security(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-security-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.service, self.port = start_test_service(self.dir)
        self.addCleanup(stop, self.service)
        self.state = os.path.join(self.dir, "state", "nested")
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.log_path = os.path.join(self.dir, "agent.log")

    def run_agent(self, *extra):
        log = open(self.log_path, "a")
        self.addCleanup(log.close)
        agent = subprocess.Popen([TRIMTAB, "run", self.config, *extra], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.addCleanup(stop, agent)
        return agent

    def checked(self, what):
        print(f"security: {what}", file=sys.stderr)
        CHECKS.append(what)

    def test_control_server_defaults_and_commands(self):
        write_tuning_config(self.config, port=self.port, control=0, state=self.state)
        text = read_text(self.config)
        # No listen address: the default, 127.0.0.1:9464.
        text = text.replace('listen: "127.0.0.1:0", ', "")
        with open(self.config, "w") as f:
            f.write(text)
        self.assertNotIn("listen", text)
        if listening_addresses(9464):
            self.skipTest("port 9464 is taken on this machine")
        agent = self.run_agent("--create-token")
        wait_for(lambda: listening_addresses(9464), 20, "the control server on its default port")
        self.assertEqual(listening_addresses(9464), ["0100007F"], "the default listen address is not loopback only")
        self.checked("the control server listens on 127.0.0.1 only by default")

        token_file = os.path.join(self.dir, "token")
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        for path in (self.state, os.path.dirname(self.state)):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700, path)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.state, "journal.jsonl")).st_mode), 0o600)
        self.checked("token file 0600, state directories 0700, journal 0600")

        base = "http://127.0.0.1:9464"
        token = read_text(token_file).strip()
        wait_for(lambda: any(r["type"] == "start" for r in read_journal(self.state)), 20, "the start record")
        status, _ = fetch(base + "/pause", "POST")
        self.assertEqual(status, 401)
        status, _ = fetch(base + "/pause", "POST", headers={"Authorization": "Bearer " + token[:-1] + "x"})
        self.assertEqual(status, 401)
        status, _ = fetch(base + "/rollback", "POST", headers={"Authorization": "Basic " + token})
        self.assertEqual(status, 401)
        self.assertFalse(any(r["type"] == "operator" for r in read_journal(self.state)),
                         "a refused command reached the loop")
        self.assertFalse(json.loads(fetch(base + "/status")[1])["paused"])
        self.checked("commands without the token, with a wrong one or another scheme: 401, nothing changed")

        status, _ = fetch(base + "/pause", "POST", data=b"x" * (64 * 1024), headers={"Authorization": "Bearer " + token})
        self.assertIn(status, (413, 400))
        self.checked("a 64 KiB request body is refused")

        codes = [fetch(base + "/resume", "POST", headers={"Authorization": "Bearer wrong"})[0] for _ in range(30)]
        self.assertIn(429, codes, codes)
        self.checked("a flood of commands is rate limited (429)")
        self.assertIsNone(agent.poll())

    def test_secrets_never_leave_the_config(self):
        redis_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--requirepass", REDIS_PASSWORD, "--dir", self.dir],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.addCleanup(stop, redis)

        def redis_up():
            try:
                with socket.create_connection(("127.0.0.1", redis_port), timeout=1):
                    return True
            except OSError:
                return False
        wait_for(redis_up, 10, "redis-server")
        control = free_port()
        write_tuning_config(self.config, port=self.port, control=control, state=self.state)
        text = read_text(self.config)
        text = text.replace("  batch: {type: int, min: 1, max: 32, default: 4}\n",
                            "  batch: {type: int, min: 1, max: 32, default: 4}\n"
                            "  samples: {type: int, min: 3, max: 10, default: 5}\n")
        text = text.replace("adapters:\n", "adapters:\n"
                            f"  - {{name: cache, kind: redis, address: \"127.0.0.1:{redis_port}\", "
                            "password_env: TRIMTAB_TEST_REDIS_PASSWORD, params: [samples], "
                            "names: {samples: maxmemory-samples}}\n")
        with open(self.config, "w") as f:
            f.write(text)
        os.environ["TRIMTAB_TEST_REDIS_PASSWORD"] = REDIS_PASSWORD
        self.addCleanup(os.environ.pop, "TRIMTAB_TEST_REDIS_PASSWORD", None)
        agent = self.run_agent("--create-token")
        base = f"http://127.0.0.1:{control}"
        wait_for(lambda: any(r["type"] == "applied" for r in read_journal(self.state)), 40, "an apply")
        stop(redis)  # every Redis operation fails from now on, with messages
        wait_for(lambda: any(r["type"] == "apply_failed" for r in read_journal(self.state)), 60, "a failed apply")
        surfaces = {
            "log": read_text(self.log_path),
            "journal": read_text(os.path.join(self.state, "journal.jsonl")),
            "/status": fetch(base + "/status")[1],
            "/metrics": fetch(base + "/metrics")[1],
            "/": fetch(base + "/")[1],
        }
        self.assertIn("apply_failed", surfaces["journal"])
        for name, text in surfaces.items():
            self.assertNotIn(REDIS_PASSWORD, text, f"the Redis password appears in {name}")
        self.checked("the Redis password is in none of the log, journal, /status, /metrics, / (after failed applies)")
        stop(agent)

        # A DSN with a password: the start fails (nothing listens), and the message keeps it secret.
        text = read_text(self.config)
        redis_entry = text[text.index("  - {name: cache, kind: redis"):]
        redis_entry = redis_entry[:redis_entry.index("\n") + 1]
        text = text.replace(redis_entry, f"  - {{name: db, kind: postgres, dsn: \"host=127.0.0.1 port={free_port()} "
                                         f"user=x password={DSN_PASSWORD} dbname=postgres\", params: [samples], "
                                         "names: {samples: work_mem}}\n")
        with open(self.config, "w") as f:
            f.write(text)
        result = subprocess.run([TRIMTAB, "run", self.config], capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        self.assertIn("adapter 'db'", output)
        self.assertRegex(output, r"connect|refused", output)
        self.assertNotIn(DSN_PASSWORD, output)
        self.assertNotIn(DSN_PASSWORD, read_text(os.path.join(self.state, "journal.jsonl")))
        self.checked("a password inside a libpq DSN stays out of the error and the journal")


def tearDownModule():
    print(f"security: {len(CHECKS)} checks passed", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
