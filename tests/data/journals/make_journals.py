#!/usr/bin/env python3
"""Writes the journals tests/agent/journal_replay_test.cpp replays, with the trimtab named:

    make_journals.py TRIMTAB OUT_DIR

OUT_DIR/demo, OUT_DIR/operator and OUT_DIR/failures each get journal.jsonl and the tuning.yaml it
ran with (addresses and paths neutralised). What a run writes depends on timing, so a new run is a
new reference: copy it over tests/data/journals/NAME only when the format itself changed on
purpose, then regenerate replayed.json (TRIMTAB_WRITE_REPLAYED=1) and review both diffs.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "agent"))
from service_harness import free_port, read_journal, start_test_service, stop, wait_for, write_tuning_config  # noqa: E402

TRIMTAB, OUT = sys.argv[1], sys.argv[2]
DEMO_CONFIG = os.path.join(HERE, "..", "..", "..", "examples", "demo", "tuning.yaml")


def neutralised(text):
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:9", text)
    text = re.sub(r"dir: /[^}\n]*", "dir: state", text)
    return re.sub(r"token_file: /[^}\n]*", "token_file: token", text)


def keep(name, work, config, extra=()):
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(work, "state", "journal.jsonl"), out)
    with open(config) as f, open(os.path.join(out, "tuning.yaml"), "w") as g:
        g.write(neutralised(f.read()))
    for path in extra:
        shutil.copy(path, out)
    kinds = collections.Counter(r["type"] for r in read_journal(os.path.join(work, "state")))
    print(f"{name}: {dict(kinds)}")


def demo(work):
    subprocess.run([TRIMTAB, "demo", "--state", os.path.join(work, "state"), "--budget", "8", "--seed", "3", "-q"],
                   check=True, stdout=subprocess.DEVNULL)
    config = os.path.join(work, "tuning.yaml")
    with open(DEMO_CONFIG) as f, open(config, "w") as g:
        g.write(re.sub(r"solver: \{kind: bayes, budget: \d+, seed: \d+\}", "solver: {kind: bayes, budget: 8, seed: 3}",
                       f.read()))
    keep("demo", work, config)


class Run:
    """`trimtab run` against tests/agent/test_service.py, with the harness's config edited by `edit`."""

    def __init__(self, work, edit, **config):
        self.work = work
        self.service, port = start_test_service(work)
        self.state = os.path.join(work, "state")
        self.config = os.path.join(work, "tuning.yaml")
        write_tuning_config(self.config, port=port, control=free_port(), state=self.state, **config)
        with open(self.config) as f:
            text = edit(f.read())
        with open(self.config, "w") as f:
            f.write(text)
        self.log = open(os.path.join(work, "agent.log"), "a")
        self.agent = None

    def start(self, **env):
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stdout=self.log,
                                      stderr=self.log, stdin=subprocess.DEVNULL, env=dict(os.environ, **env))

    def kinds(self, kind):
        return [r for r in read_journal(self.state) if r["type"] == kind]

    def cli(self, *args):
        subprocess.run([TRIMTAB, *args, self.config], check=True, capture_output=True, timeout=30)

    def close(self):
        if self.agent:
            stop(self.agent)
        self.service.kill()
        self.service.wait()


def operator(work):
    offline = os.path.join(work, "offline.jsonl")
    with open(offline, "w") as f:
        for value in (985.0, 992.0, 999.0):
            f.write(json.dumps({"params": {"pool": 36, "batch": 14}, "value": value, "constraints": [-200.0]}) + "\n")

    def edit(text):
        text = "mode: recommend\n" + text.replace("seed: 1}", "seed: 1, history: offline.jsonl}")
        return text.replace("guardrails:\n", "guardrails:\n  preset: balanced\n  switchback_window: 1200ms\n")
    run = Run(work, edit, budget=40)
    try:
        run.start()
        wait_for(lambda: len(run.kinds("recommendation")) >= 3, 60, "recommendations")
        run.cli("apply")
        wait_for(lambda: len(run.kinds("switchback")) >= 3, 150, "switchback pairs")
        wait_for(lambda: any(r["verdict"] in ("promote", "keep") for r in run.kinds("decision")[-3:]), 30,
                 "the switchback's verdict")
        run.cli("pause")
        time.sleep(2)
        run.cli("resume")
        time.sleep(8)
        run.cli("recommend")
        time.sleep(5)
    finally:
        run.close()
    keep("operator", work, run.config, [offline])


def failures(work):
    # Pools beyond the service's 64 fail their apply (HTTP 400); one rollback an hour is the limit.
    def edit(text):
        text = text.replace("pool: {type: int, min: 1, max: 64, default: 8}", "pool: {type: int, min: 1, max: 200, default: 8}")
        text = text.replace("max_delta: {pool: 8, batch: 50%}", "max_delta: {pool: 200, batch: 100%}")
        return text.replace("max_rollbacks_per_hour: 20", "max_rollbacks_per_hour: 1")
    run = Run(work, edit, settle="300ms", duration="1200ms", budget=40)
    try:
        run.start()
        wait_for(lambda: run.kinds("safe_mode") and run.kinds("apply_failed"), 120, "failed applies and safe mode")
        time.sleep(1)
        stop(run.agent)
        run.start(TRIMTAB_ENABLED="false")
        wait_for(lambda: len(run.kinds("start")) >= 2, 30, "the second start")
        time.sleep(3)
    finally:
        run.close()
    keep("failures", work, run.config)


for make in (demo, operator, failures):
    with tempfile.TemporaryDirectory(prefix=f"trimtab-{make.__name__}-") as work:
        make(work)
