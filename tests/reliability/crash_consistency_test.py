#!/usr/bin/env python3
"""Crash consistency of the standalone agent: `trimtab run` is killed with SIGKILL at many random
points of its loop (CRASH_KILLS, default 100) and started again each time. After every kill:

  a) the journal on disk is intact: every complete line is a JSON record, seq runs 1..N with no gap
     and no repeat, and every record read just before the kill is still there byte for byte (only a
     torn last line, one with no newline, may vanish; the restarted agent drops it and says so);
  b) the restarted agent writes a `start` record with resumed=true, whose baseline is what the
     service was running when the agent died, and within a bound the service runs the last known
     good configuration: the journal's last `incumbent` point (or, before any incumbent, the first
     run's baseline), with nothing else applied before it;
  c) no record is lost or duplicated across the restart: the new run's first record is seq N+1, and
     the agent's log says it replayed exactly N records.

Kills are spread over the loop: some land while the agent starts (before its `start` record), some
right after a given record type appears (apply, applied, observation, decision, incumbent, proposal,
a rollback's applied; in a restart: start, the restore's apply, the refusal that defers it; the
journal is polled every 0.2 ms for those, so the kill mostly lands while the agent is still in that
record's fdatasync, before it acts on it), the rest at a random time after the start. Every CRASH_TORN_EVERY-th kill (default 10; 0: never) also appends a torn record
to the journal, as a crash in the middle of a write would leave, to check that the restart drops
exactly that.

The summary line gives the kills survived, the journal's last record type at each kill (a proxy for
the loop's state) and the state derived from it. The binary is copied into the test's temporary
directory first, so a concurrent rebuild cannot swap it mid-run.

Usage: crash_consistency_test.py TRIMTAB
Environment: CRASH_KILLS (100), CRASH_SEED (random, printed), CRASH_TORN_EVERY (10),
             CRASH_RESTORE_BOUND (seconds from a restart to the last known good in force, 10),
             CRASH_KEEP=1 (keep the temporary directory, for a post-mortem), CRASH_VERBOSE=1 (a line per kill)
"""

import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "agent"))
from service_harness import free_port, start_test_service, write_tuning_config  # noqa: E402

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
KILLS = int(os.environ.get("CRASH_KILLS", "100"))
SEED = int(os.environ.get("CRASH_SEED", str(random.SystemRandom().randrange(1 << 32))))
TORN_EVERY = int(os.environ.get("CRASH_TORN_EVERY", "10"))
RESTORE_BOUND = float(os.environ.get("CRASH_RESTORE_BOUND", "10"))
KEEP = os.environ.get("CRASH_KEEP") == "1"
VERBOSE = os.environ.get("CRASH_VERBOSE") == "1"
MAX_FAILURES = 5  # go on after a failure to see how common it is, but not forever

SETTLE_MS, DURATION_MS, INTERVAL_MS = 200, 600, 100
# Record types a kill follows at once ("applied:rollback": an applied record of that purpose).
TARGETS = ["apply", "applied", "observation", "decision", "incumbent", "proposal", "applied:rollback"]
RESTART_TARGETS = ["start", "apply", "refusal"]  # in a restart, before the last known good is back


class CheckFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailure(message)


def modes_label(mode, target):
    return mode if target is None else f"{mode}:{target}"


def matches(record, target):
    """Whether a record is of a target type such as "applied" or "applied:rollback"."""
    kind, _, purpose = target.partition(":")
    return record["type"] == kind and (not purpose or record.get("purpose") == purpose)


def brief(record):
    """A record in one line, without the bulky keys."""
    r = {k: v for k, v in record.items() if k not in ("signals", "objective", "constraints", "time")}
    text = json.dumps(r, separators=(",", ":"))
    return text if len(text) <= 220 else text[:217] + "..."


class JournalReader:
    """Follows STATE/journal.jsonl: parses what is appended, checks seq 1..N as it goes, and keeps the
    bytes of the complete lines read so far (`complete`) to check later that they never change."""

    def __init__(self, path):
        self.path = path
        self.complete = b""
        self.tail = b""
        self.records = []

    def poll(self):
        """Reads what was appended since the last call; True when new complete records arrived."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            size = 0
        if size == len(self.complete) + len(self.tail):
            return False
        check(size >= len(self.complete),
              f"the journal shrank to {size} bytes, below its {len(self.records)} complete records "
              f"({len(self.complete)} bytes): records were lost")
        with open(self.path, "rb") as f:
            f.seek(len(self.complete))
            data = f.read()
        cut = data.rfind(b"\n") + 1
        new, self.tail = data[:cut], data[cut:]
        for line in new.split(b"\n")[:-1]:
            number = len(self.records) + 1
            try:
                record = json.loads(line)
            except ValueError as e:
                raise CheckFailure(f"journal line {number} is not JSON ({e}): {line[:200]!r}") from None
            check(isinstance(record, dict), f"journal line {number} is not an object: {line[:200]!r}")
            check(record.get("seq") == number,
                  f"journal line {number} has seq {record.get('seq')!r} where {number} was expected "
                  f"(a gap or a repeat); the records before it: "
                  + " | ".join(brief(r) for r in self.records[-3:]) + f" | this one: {line[:200]!r}")
            check(isinstance(record.get("time"), int) and isinstance(record.get("type"), str),
                  f"journal line {number} lacks time or type: {line[:200]!r}")
            self.records.append(record)
        self.complete += new
        return bool(new)

    def check_on_disk(self, before_kill):
        """After a kill: the whole file again, from the start."""
        with open(self.path, "rb") as f:
            data = f.read()
        check(data.startswith(before_kill),
              f"the journal changed under records that were complete before the kill: the first "
              f"{len(before_kill)} bytes differ (now {len(data)} bytes)")
        self.poll()
        check(data == self.complete + self.tail, "the journal read incrementally differs from the file")


class CrashConsistency(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-crash-")
        if KEEP:
            print(f"keeping {self.dir}", file=sys.stderr)
        else:
            self.addCleanup(shutil.rmtree, self.dir, True)
        service_log = open(os.path.join(self.dir, "service.log"), "w")  # a scrape cut by a kill: BrokenPipe
        self.addCleanup(service_log.close)
        self.service, self.port = start_test_service(self.dir, stdout=service_log, stderr=service_log)
        self.addCleanup(self.stop_process, self.service)
        self.agent = None
        self.log = None
        self.addCleanup(self.stop_agent)  # runs first: the agent goes before the service
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        write_tuning_config(self.config, port=self.port, control=free_port(), state=self.state,
                            interval=f"{INTERVAL_MS}ms", settle=f"{SETTLE_MS}ms", duration=f"{DURATION_MS}ms",
                            budget=1000000)
        with open(self.config) as f:
            text = f.read()
        # Short windows and a study that never ends; max 5 updates a second, so that an apply soon
        # after another (a restore right after a kill that followed an apply) is deferred and the
        # loop also spends time waiting; no rollback budget, so it never goes to safe mode.
        for old, new in (("max_updates_per_second: 2", "max_updates_per_second: 5"),
                         ("max_rollbacks_per_hour: 20", "max_rollbacks_per_hour: 1000000")):
            self.assertIn(old, text)
            text = text.replace(old, new)
        with open(self.config, "w") as f:
            f.write(text)
        self.trimtab = self.snapshot_binary()
        self.journal = JournalReader(os.path.join(self.state, "journal.jsonl"))

    # --- processes ----------------------------------------------------------------------------

    @staticmethod
    def stop_process(process):
        if process.poll() is None:
            process.kill()
        process.wait()

    def stop_agent(self):
        if self.agent is not None:
            self.stop_process(self.agent)
            self.agent = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def snapshot_binary(self):
        """A private copy of the binary (others may relink it meanwhile), checked to run."""
        copy = os.path.join(self.dir, "trimtab")
        problem = ""
        for _ in range(20):
            try:
                shutil.copy2(TRIMTAB, copy)
                result = subprocess.run([copy, "validate", self.config], capture_output=True, text=True, timeout=30)
                if result.returncode == 0:
                    return copy
                problem = result.stdout + result.stderr
            except OSError as e:
                problem = str(e)
            time.sleep(3)  # being relinked right now: try again
        self.fail(f"cannot run {TRIMTAB}: {problem}")

    def start_agent(self, run):
        self.log_path = os.path.join(self.dir, f"agent-{run:03}.log")
        self.log = open(self.log_path, "w")
        self.agent = subprocess.Popen([self.trimtab, "run", self.config, "--create-token"], stdout=self.log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def agent_log(self):
        with open(self.log_path) as f:
            return f.read()

    def service_config(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/admin/config", timeout=10) as r:
            return json.loads(r.read())

    # --- one run of the agent, from its start to its kill ------------------------------------

    def expected_last_known_good(self, upto):
        """The last known good configuration after records[:upto]: the last incumbent's point, or
        None before there is one (the baseline stays in force then)."""
        for r in reversed(self.journal.records[:upto]):
            if r["type"] == "incumbent":
                return r["point"]
        return None

    def try_verify(self, run):
        """Whether the last known good configuration is in force yet (True), not yet (False); a
        CheckFailure when the restart did something else."""
        records = self.journal.records[run["base"]:]
        start = records[0]
        lkg = run["lkg"]
        if lkg is None:
            # No incumbent yet: nothing may be applied before the baseline is measured.
            applies = [r for r in records if r["type"] == "apply"]
            first_incumbent = next((r["seq"] for r in records if r["type"] == "incumbent"), None)
            check(all(first_incumbent is not None and r["seq"] > first_incumbent for r in applies),
                  f"an apply before any incumbent existed: {brief(applies[0]) if applies else ''}")
            target, done_seq = self.baseline, start["seq"]
        else:
            target = lkg
            done_seq = start["seq"] if start["baseline"] == lkg else None
            for r in records:
                if done_seq is not None:
                    break
                if r["type"] == "apply":
                    check(r["purpose"] == "restore",
                          f"the restart applied {brief(r)} before the last known good {lkg} was restored")
                if r["type"] == "apply_failed":
                    raise CheckFailure(f"the restore failed: {brief(r)}")
                if r["type"] == "applied" and r["purpose"] == "restore" and r["point"] == lkg:
                    done_seq = r["seq"]
            if done_seq is None:
                return False
        # The service's own word, taken before anything else is applied.
        config = self.service_config()
        self.journal.poll()
        later = [r for r in self.journal.records[done_seq:] if r["type"] == "apply"]
        check(not later, f"could not read the service's configuration between the restore (seq {done_seq}) "
                         f"and the next apply ({brief(later[0]) if later else ''}): the machine is too slow")
        check(config == target,
              f"after the restart the service runs {config}, not the last known good configuration {target} "
              f"(journal after the restart: " + " | ".join(brief(r) for r in records[:8]) + ")")
        return True

    def run_once(self, index, mode, target, delay):
        """Starts the agent, checks its restart, kills it as `mode` says; returns what it saw."""
        base = len(self.journal.records)
        run = {"base": base, "lkg": self.expected_last_known_good(base), "verified": False, "start": None}
        self.start_agent(index)
        spawned = time.monotonic()
        started_at = None
        fallback = None
        armed_from = None  # seq after which a record of the target type triggers the kill
        while True:
            self.journal.poll()
            now = time.monotonic()
            records = self.journal.records[base:]
            if records and run["start"] is None:
                first = records[0]
                check(first["type"] == "start", f"the run's first record is not a start: {brief(first)}")
                check(first["resumed"] is (base > 0), f"resumed is {first['resumed']} with {base} records before")
                if self.config_at_kill is not None:
                    check(first["baseline"] == self.config_at_kill,
                          f"the restart read {first['baseline']} as running, but the service ran "
                          f"{self.config_at_kill} when the agent was killed")
                run["start"] = first
                started_at = now
                run["start_ms"] = (now - spawned) * 1000
            if run["start"] is not None and not run["verified"]:
                if self.try_verify(run):
                    run["verified"] = True
                    run["restore_ms"] = (now - spawned) * 1000
                    armed_from = len(self.journal.records)
            if self.agent.poll() is not None:
                raise CheckFailure(f"the agent exited with {self.agent.returncode} on its own:\n{self.agent_log()[-2000:]}")
            check(run["start"] is not None or now - spawned <= RESTORE_BOUND,
                  f"no start record {RESTORE_BOUND} s after the restart:\n{self.agent_log()[-2000:]}")
            if mode != "early" and mode != "restart" and not run["verified"] and now - spawned > RESTORE_BOUND:
                raise CheckFailure(f"the last known good configuration {run['lkg'] or self.baseline} was not in "
                                   f"force {RESTORE_BOUND} s after the restart; journal since: "
                                   + " | ".join(brief(r) for r in records[:10]))
            # When to kill.
            fast = False
            if mode == "early":
                if now - spawned >= delay:
                    break
            elif mode == "restart":
                fast = True
                if run["start"] is not None and (any(matches(r, target) for r in records) or now - started_at > 0.5):
                    break
            elif mode == "timed":
                if run["verified"] and now - started_at >= delay:
                    break
            elif mode == "targeted" and run["verified"]:
                fast = True
                if fallback is None:
                    fallback = now + 4.0
                if any(matches(r, target) for r in self.journal.records[armed_from:]) or now > fallback:
                    break
            time.sleep(0.0002 if fast else 0.005 if mode == "early" else 0.02)

        before_kill = self.journal.complete
        killed_at_ms = time.time() * 1000
        self.agent.send_signal(signal.SIGKILL)
        self.agent.wait()
        self.config_at_kill = self.service_config()
        run["before_kill"] = before_kill
        run["killed_at_ms"] = killed_at_ms
        run["log"] = self.agent_log()
        self.log.close()
        self.log = None
        self.agent = None
        return run

    def check_log(self, run, torn_bytes):
        """What the restarted agent said about the journal it replayed."""
        log = run["log"]
        if run["start"] is None:
            return  # killed before it had replayed for sure
        check(f"journal: replayed {run['base']} records" in log,
              f"the agent's log does not say it replayed {run['base']} records:\n{log[-1500:]}")
        dropped = "journal: dropped a torn last record"
        if torn_bytes:
            check(f"{dropped} ({torn_bytes} bytes)" in log,
                  f"a torn last record of {torn_bytes} bytes was on disk, the agent's log does not say it "
                  f"dropped it:\n{log[-1500:]}")
        else:
            check(dropped not in log, f"the agent dropped a record although none was torn:\n{log[-1500:]}")

    def loop_state(self, run):
        """The loop's state when it was killed, from the last record on disk and the time since it."""
        if len(self.journal.records) <= run["base"]:
            return "starting"
        last = self.journal.records[-1]
        elapsed = run["killed_at_ms"] - last["time"]
        kind = last["type"]
        if kind == "start":
            if run["lkg"] is not None and last["baseline"] != run["lkg"]:
                return "restoring"
            return "settling" if elapsed < SETTLE_MS else "observing"
        if kind == "apply":
            return "applying"
        if kind == "applied":
            if last["purpose"] == "rollback":
                return "cooling_down"
            return "settling" if elapsed < SETTLE_MS else "observing"
        if kind in ("observation", "decision", "incumbent", "proposal"):
            return "deciding"
        if kind in ("refusal", "apply_failed"):
            return "waiting"
        return kind

    def check_runtime_config(self):
        """runtime_config.json names an incumbent record of the journal, with its point; True when it
        lags the journal's last incumbent (a kill between the two writes), as a Counter: "behind" (an
        older incumbent record) and "other point" (one with another point than the last)."""
        path = os.path.join(self.state, "runtime_config.json")
        incumbents = [r for r in self.journal.records if r["type"] == "incumbent"]
        if not os.path.exists(path):
            check(len(incumbents) <= 1, f"no runtime_config.json after {len(incumbents)} incumbent records")
            return collections.Counter({"behind": 1, "other point": 1} if incumbents else {})
        with open(path) as f:
            runtime = json.load(f)
        seq = runtime.get("seq")
        check(isinstance(seq, int) and 1 <= seq <= len(self.journal.records),
              f"runtime_config.json names seq {seq!r}, not in the journal ({len(self.journal.records)} records)")
        named = self.journal.records[seq - 1]
        check(named["type"] == "incumbent" and named["point"] == runtime.get("point"),
              f"runtime_config.json {runtime} does not match journal record {brief(named)}")
        return collections.Counter({"behind": named is not incumbents[-1],
                                    "other point": named["point"] != incumbents[-1]["point"]})

    # --- the test ---------------------------------------------------------------------------

    def test_kill_9_anywhere_loses_nothing(self):
        rng = random.Random(SEED)
        began = time.monotonic()
        self.config_at_kill = None
        self.baseline = self.service_config()
        last_types, states, modes = collections.Counter(), collections.Counter(), collections.Counter()
        restore_ms, start_ms = [], []
        pending = []  # kills whose restart has not yet been seen to restore the last known good
        survived = kills = 0
        failures = []
        torn_simulated = 0
        deferred_restore = False
        stale_runtime = collections.Counter()
        torn_real = []
        torn_bytes = 0
        targets = TARGETS[:]
        rng.shuffle(targets)
        for index in range(KILLS + 1):  # the last run only checks the restart after the last kill
            final = index == KILLS
            if index == 0 or final or len(pending) >= 2:
                mode = "timed"  # the first run makes the token; and never defer a check for long
            elif deferred_restore and rng.random() < 0.6:
                mode = "restart"  # its restore will wait for max_updates_per_second: kill it waiting
            else:
                mode = rng.choices(["early", "restart", "targeted", "timed"], [12, 10, 40, 38])[0]
            target = None
            delay = 0.0
            if mode == "restart" and deferred_restore:
                target = "refusal"
            elif mode == "early":
                delay = rng.uniform(0.0, 0.1)  # the start record comes some 40-100 ms after the spawn
            elif mode == "restart":
                target = rng.choice(RESTART_TARGETS)
            elif mode == "targeted":
                target = targets[index % len(targets)]
            elif not final:
                delay = rng.uniform(0.05, 2.6)
            try:
                run = self.run_once(index, mode, target, delay)
                self.check_log(run, torn_bytes)
                if run["verified"]:
                    survived += len(pending)
                    pending.clear()
                    restore_ms.append(run["restore_ms"])
                if "start_ms" in run:
                    start_ms.append(run["start_ms"])
                if final:
                    break
                kills += 1
                # The kill: the journal on disk, then what it tells about the loop's state.
                self.journal.check_on_disk(run["before_kill"])
                torn_bytes = len(self.journal.tail)
                if torn_bytes:  # SIGKILL can cut a write short: the kernel stops copying at a fatal signal
                    torn = re.search(rb'"type":"(\w+)"', self.journal.tail)
                    torn_real.append(f"{torn.group(1).decode() if torn else '?'} ({torn_bytes} bytes)")
                if TORN_EVERY and not torn_bytes and index % TORN_EVERY == TORN_EVERY - 1:
                    # A crash in the middle of a write leaves a part of a line: add one.
                    fake = json.dumps({"seq": len(self.journal.records) + 1, "time": int(time.time() * 1000),
                                       "type": "observation", "point": self.config_at_kill})
                    torn = fake[:rng.randrange(1, len(fake))].encode()
                    with open(self.journal.path, "ab") as f:
                        f.write(torn)
                    self.journal.poll()
                    check(self.journal.tail == torn, "the simulated torn record is not the journal's tail")
                    torn_bytes = len(torn)
                    torn_simulated += 1
                stale_runtime.update(self.check_runtime_config())
                last = self.journal.records[-1] if self.journal.records else {"type": "(empty)", "time": 0}
                last_types[last["type"]] += 1
                # Killed within 100 ms of an apply: the restart's restore is deferred (5 updates a second).
                deferred_restore = last["type"] == "applied" and run["killed_at_ms"] - last["time"] < 100
                states[self.loop_state(run)] += 1
                modes[modes_label(mode, target)] += 1
                pending.append(index)
                if VERBOSE:
                    print(f"kill {kills}: {modes_label(mode, target)}, after {brief(self.journal.records[-1])}, "
                          f"{self.loop_state(run)}", file=sys.stderr)
            except CheckFailure as e:
                failures.append(f"run {index} ({'the first' if index == 0 else f'the restart after kill {index}'}; "
                                f"its own kill {mode}"
                                f"{':' + target if target else ''}; seed {SEED}): {e}")
                print(f"FAILURE {failures[-1]}", file=sys.stderr)
                self.stop_agent()
                if len(failures) >= MAX_FAILURES or final:
                    break
                # Go on from what is on disk now.
                self.journal = JournalReader(self.journal.path)
                try:
                    self.journal.poll()
                except CheckFailure as broken:
                    failures.append(f"the journal cannot be read any more: {broken}")
                    break
                torn_bytes = len(self.journal.tail)
                pending.clear()  # counted as not survived
                self.config_at_kill = self.service_config()

        elapsed = time.monotonic() - began
        leftovers = [n for n in os.listdir(self.state) if ".tmp." in n]

        def listing(counter):
            return ", ".join(f"{k} {v}" for k, v in counter.most_common())
        restore_ms.sort()
        start_ms.sort()
        median = lambda values: f"median {values[len(values) // 2]:.0f} ms, max {values[-1]:.0f} ms" if values else "-"
        summary = (f"crash consistency: {kills} kills, {survived} survived; killed after: {listing(last_types)}; "
                   f"{elapsed:.1f} s\n"
                   f"  loop state at the kill: {listing(states)}\n"
                   f"  kill modes: {listing(modes)}\n"
                   f"  torn last records dropped on restart: {torn_simulated} simulated, "
                   f"{len(torn_real)} from a kill {torn_real[:5]}; "
                   f"runtime_config.json behind the journal's last incumbent after {stale_runtime['behind']} kills "
                   f"(with another point after {stale_runtime['other point']}); "
                   f"temporary files left in the state directory: {len(leftovers)} {leftovers[:3]}\n"
                   f"  journal: {len(self.journal.records)} records; spawn to start record: {median(start_ms)}; "
                   f"to last known good in force: {median(restore_ms)} ({len(restore_ms)} restarts checked)\n"
                   f"  wall time {elapsed:.1f} s (seed {SEED})")
        print(summary, file=sys.stderr)
        if failures:
            self.fail(f"{len(failures)} failure(s), {KILLS - survived} of {KILLS} kills not survived; "
                      f"the first failure: {failures[0]}")
        self.assertEqual(kills, KILLS)
        self.assertEqual(survived, KILLS, "every kill's restart was checked")
        if KILLS >= 50:
            for state in ("applying", "settling", "observing", "deciding"):
                self.assertIn(state, states, f"no kill landed while {state}")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
