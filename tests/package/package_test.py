#!/usr/bin/env python3
"""The Debian packages as an operator gets them (cmake/trimtab_package.cmake):

1. `cpack -G DEB` in the build directory writes trimtab and trimtab-dev;
2. dpkg-deb shows what they hold: the binary, the unit, the man page, the completion, the conffile
   /etc/trimtab/tuning.yaml, the maintainer scripts, dependencies dpkg-shlibdeps computed; the
   headers, static libraries and CMake package in -dev;
3. both are unpacked into a scratch root, and the binary from there validates the shipped example;
4. the man page holds every command's --help, and bash completion offers commands, options and
   configs;
5. `systemd-analyze verify` accepts trimtab@.service, and `systemd-analyze security --offline`
   rates its sandbox (printed; it must stay "OK" or better, exposure below 3.0);
6. lintian reports no tag that packaging/debian/lintian-tags.txt does not explain;
7. the daemon from the scratch root, run as systemd runs it: READY=1 on $NOTIFY_SOCKET (an
   abstract socket) once the journal is replayed and the control server listens, journald
   priority prefixes when $JOURNAL_STREAM names its stderr, RELOADING=1 then READY=1 again from
   the same pid on SIGHUP, STOPPING=1 and exit 0 on SIGTERM;
8. its footprint: resident memory after starting on an empty state directory, after starting
   on a journal of 10,000 windows, and the peak while starting on a finished study's long journal
   that it compacts, printed as a table; asserted: at most 10 MiB (the issue's goal) after 10,000
   windows, which add at most 3.5 MiB to what the agent holds after start, and neither replay nor
   compaction peaks more than 8 MiB above it.

Usage: package_test.py BUILD_DIR SOURCE_DIR
"""

import glob
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from service_harness import free_port, start_test_service, stop, write_tuning_config  # noqa: E402

MIB = 2 ** 20
FOOTPRINT_GOAL = 10 * MIB
# What 10,000 windows may add to the agent's resident memory: the solver's history (one pooled
# Evaluation per configuration, 2,032 here), the last 500 windows of the status page's fold, the
# last 512 records, the evidence ledger's 256 configurations (measured: 2.2 MiB; 4.8 MiB with one
# Trial per measurement in the solver and 1,000 windows in the fold; 6.9 MiB when the ledger kept
# every configuration too).
MAX_GROWTH = 3.5 * MIB
# What replaying or compacting a long journal may add to the agent's peak: the journal is read a
# chunk at a time and never held whole, and the replay pools windows as it reads them (measured:
# 1.9 MiB replaying 10,000 windows, 4.9 MiB compacting 16,000 re-measured windows at start; when
# whole journals were parsed, 60 MiB replaying the 10,000 windows and 63 MiB compacting a 12.2 MiB
# journal).
MAX_PEAK_GROWTH = 8 * MIB


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_packages(build_dir, out):
    run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-B", out])
    debs = {os.path.basename(p).split("_")[0]: p for p in glob.glob(os.path.join(out, "*.deb"))}
    assert set(debs) == {"trimtab", "trimtab-dev"}, f"cpack wrote {sorted(debs)}"
    return debs


def field(info, name):
    match = re.search(rf"^ {name}: (.*)$", info, re.M)
    assert match, f"no {name} in the control file:\n{info}"
    return match.group(1)


def check_contents(debs):
    info = run(["dpkg-deb", "--info", debs["trimtab"]])
    contents = run(["dpkg-deb", "--contents", debs["trimtab"]])
    for path in ["./usr/bin/trimtab", "./lib/systemd/system/trimtab@.service", "./etc/trimtab/tuning.yaml",
                 "./usr/share/man/man1/trimtab.1.gz", "./usr/share/bash-completion/completions/trimtab",
                 "./usr/share/doc/trimtab/copyright"]:
        assert f" {path}\n" in contents, f"trimtab lacks {path}:\n{contents}"
    assert "/include/" not in contents and ".a\n" not in contents, "headers or libraries in the runtime package"
    depends = field(info, "Depends")
    # Computed by dpkg-shlibdeps from the binary, not listed by hand.
    for library in ["libboost-json1.81.0", "libyaml-cpp0.7", "libpq5", "libnlopt0", "libc6", "libstdc++6"]:
        assert library in depends, f"Depends lacks {library}: {depends}"
    assert "adduser" in depends
    for script in ["postinst", "postrm", "conffiles"]:
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s*{script}\b", info, re.M), f"no {script}:\n{info}"
    control = tempfile.mkdtemp(prefix="trimtab-control-")
    run(["dpkg-deb", "--control", debs["trimtab"], control])
    with open(os.path.join(control, "conffiles")) as f:
        conffiles = f.read()
    with open(os.path.join(control, "postinst")) as f:
        assert "adduser" in f.read() and os.access(os.path.join(control, "postinst"), os.X_OK)
    shutil.rmtree(control)
    assert conffiles.split() == ["/etc/trimtab/tuning.yaml"], conffiles

    dev_contents = run(["dpkg-deb", "--contents", debs["trimtab-dev"]])
    for path in ["./usr/include/trimtab/agent/agent.hpp", "./usr/lib/libtrimtab_core.a",
                 "./usr/lib/cmake/trimtab/trimtabConfig.cmake", "./usr/lib/cmake/trimtab/trimtabTargets.cmake"]:
        assert f" {path}\n" in dev_contents, f"trimtab-dev lacks {path}:\n{dev_contents}"
    assert "./usr/bin/" not in dev_contents and "/etc/" not in dev_contents
    dev_depends = field(run(["dpkg-deb", "--info", debs["trimtab-dev"]]), "Depends")
    return {"trimtab Depends": depends, "trimtab-dev Depends": dev_depends,
            "sizes": {name: os.path.getsize(path) for name, path in debs.items()}}


def unpack(debs, root):
    for deb in debs.values():
        run(["dpkg-deb", "-x", deb, root])
    trimtab = os.path.join(root, "usr/bin/trimtab")
    out = run([trimtab, "validate", os.path.join(root, "etc/trimtab/tuning.yaml")])
    assert "tuning.yaml: ok" in out, out
    return trimtab


def check_manpage(trimtab, root):
    with gzip.open(os.path.join(root, "usr/share/man/man1/trimtab.1.gz"), "rt") as f:
        page = f.read()
    commands = re.findall(r"^  ([a-z]+) ", run([trimtab, "--help"]).split("Commands:")[1].split("\n\n")[0], re.M)
    assert len(commands) >= 10, commands
    for command in commands:
        assert f".SS trimtab {command}\n" in page, f"the man page has no section for {command}"
    # The run command's --help, word for word (roff escapes its minus signs).
    run_help = run([trimtab, "run", "--help"])
    for line in run_help.splitlines():
        if line.strip():
            assert line.replace("\\", "\\e").replace("-", "\\-") in page, f"the man page lacks: {line}"
    return len(commands)


def complete(root, words, cwd):
    """COMPREPLY of the shipped completion for `words` (the last one being completed)."""
    script = f"""
source {os.path.join(root, 'usr/share/bash-completion/completions/trimtab')}
COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}
_trimtab
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(os.environ, PATH=os.path.join(root, "usr/bin") + ":" + os.environ["PATH"])
    return run(["bash", "-c", script], env=env, cwd=cwd).split()


def check_completion(root, scratch):
    work = os.path.join(scratch, "completion")
    os.makedirs(os.path.join(work, "configs"))
    for name in ["pool.yaml", "cache.yml", "notes.txt"]:
        open(os.path.join(work, name), "w").close()
    commands = complete(root, ["trimtab", "r"], work)
    assert {"run", "resume", "rollback", "recommend", "report"} <= set(commands), commands
    assert "--on-exit" in complete(root, ["trimtab", "run", "--"], work)
    assert complete(root, ["trimtab", "run", "--on-exit", ""], work) == ["best", "baseline", "leave"]
    configs = complete(root, ["trimtab", "validate", ""], work)
    assert {"pool.yaml", "cache.yml", "configs"} <= set(configs) and "notes.txt" not in configs, configs


def check_unit(root, scratch):
    unit = os.path.join(root, "lib/systemd/system/trimtab@.service")
    # verify loads an instance under --root, where ExecStart's /usr/bin/trimtab is the unpacked one;
    # the targets it orders itself after (sysinit.target, ...) come from this machine's systemd.
    subprocess.run(["cp", "-rn", "/lib/systemd/system/.", os.path.join(root, "lib/systemd/system/")], check=True)
    verify = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", "trimtab@tuning.service"],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and not verify.stdout.strip() and not verify.stderr.strip(), \
        f"systemd-analyze verify:\n{verify.stdout}\n{verify.stderr}"
    units = os.path.join(scratch, "units")
    os.makedirs(units)
    shutil.copy(unit, os.path.join(units, "trimtab@tuning.service"))
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                               os.path.join(units, "trimtab@tuning.service")],
                              capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", security.stdout)
    assert match, f"no exposure level:\n{security.stdout}\n{security.stderr}"
    exposure = float(match.group(1))
    assert exposure < 3.0, f"the sandbox weakened: {match.group(0)}\n{security.stdout}"
    return f"{match.group(1)} {match.group(2)}"


def check_lintian(debs, source_dir):
    explained = {}
    with open(os.path.join(source_dir, "packaging/debian/lintian-tags.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                tag, _, why = line.partition(":")
                explained[tag.strip()] = why.strip()
    result = subprocess.run(["lintian", "--no-tag-display-limit", "--display-info", *debs.values()],
                            capture_output=True, text=True)
    tags = re.findall(r"^([EWIX]): (\S+): (\S+)(.*)$", result.stdout, re.M)
    unexplained = [t for t in tags if t[2] not in explained]
    assert not unexplained, "lintian tags without an explanation in packaging/debian/lintian-tags.txt:\n" + \
        "\n".join(" ".join(t) for t in unexplained)
    return sorted({f"{t[0]}: {t[2]}" for t in tags})


class NotifySocket:
    """An abstract AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self):
        self.name = f"trimtab-package-test-{os.getpid()}-{random.randrange(10 ** 9)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.env = "@" + self.name

    def expect(self, word, timeout):
        """The messages received until one holds `word` (e.g. READY=1), that one included."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            seen.append(message)
            if word in message.split("\n"):
                return seen
        raise AssertionError(f"no {word} within {timeout} s; received {seen}")


def rss(pid, key="VmRSS"):
    """Resident memory now (VmRSS), or at its peak so far (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def write_config(path, *, port, control, state):
    """The integration tests' config for the test service, with the random solver: the Bayesian
    one would spend the footprint test refitting a Gaussian process to 10,000 windows."""
    write_tuning_config(path, port=port, control=control, state=state, settle="200ms", duration="1s",
                        budget=100000)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("kind: bayes", "kind: random"))


class JournalText:
    """Journal records as the agent writes them (docs/journal.md), one JSON line each, seq from 1."""

    def __init__(self):
        self.lines = []
        self.time = 1_700_000_000_000

    def record(self, type_, **fields):
        self.time += 150
        self.lines.append(json.dumps({"seq": len(self.lines) + 1, "time": self.time, "type": type_, **fields},
                                     separators=(",", ":")))

    def baseline(self, point, value):
        """The start of a study, and its baseline window."""
        self.record("start", baseline=point, enabled=True, mode="apply", resumed=False,
                    objective={"direction": "maximize", "expression": "rps"}, constraints=["p99_ms <= 250"])
        self.record("observation", point=point, purpose="baseline", value=value, constraints=[-150.0],
                    signals={"rps": value, "p99_ms": 100.0}, samples=5, window=0)
        self.record("incumbent", point=point, value=value, samples_count=5, samples_mean=value, samples_variance=4.0)
        self.record("decision", point=point, verdict="keep", reason="baseline measured", value=value,
                    incumbent_value=value, effect=0.0, p_value=None)

    def remeasure(self, point, value, window):
        """A window of the incumbent measured again, and what the agent wrote about it."""
        self.record("observation", point=point, purpose="remeasure", value=value, constraints=[-150.0],
                    signals={"rps": value, "p99_ms": 100.0}, samples=5, window=window)
        self.record("incumbent", point=point, value=value, samples_count=5, samples_mean=value, samples_variance=4.0)
        self.record("decision", point=point, verdict="keep", reason="incumbent measured again", value=value,
                    incumbent_value=value, effect=0.0, p_value=None)

    def write(self, state):
        """STATE/journal.jsonl, private as the agent makes it; returns its size."""
        os.makedirs(state, mode=0o700, exist_ok=True)
        path = os.path.join(state, "journal.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        os.chmod(path, 0o600)
        return os.path.getsize(path)


def write_long_journal(state, windows):
    """A journal of `windows` windows as the agent writes them (docs/journal.md): each a proposal,
    its apply, the observation and the decision; every 8th a remeasure of the incumbent."""
    rng = random.Random(7)
    journal = JournalText()
    incumbent = {"pool": 8, "batch": 4}
    best = 100.0
    journal.baseline(incumbent, best)
    for window in range(1, windows + 1):
        point = {"pool": rng.randint(1, 64), "batch": rng.randint(1, 32)}
        value = rng.uniform(50, 200)
        journal.record("proposal", point=point)
        journal.record("apply", point=point, purpose="candidate")
        journal.record("applied", point=point, purpose="candidate")
        journal.record("observation", point=point, purpose="candidate", value=value,
                       constraints=[rng.uniform(-200, 50)], signals={"rps": value, "p99_ms": rng.uniform(20, 300)},
                       samples=5, window=window)
        if value > best * 1.1:
            best, incumbent = value, point
            journal.record("decision", point=point, verdict="promote", reason=f"better by {value:.1f}", value=value,
                           incumbent_value=best, effect=0.1, p_value=0.01)
            journal.record("incumbent", point=point, value=value, samples_count=5, samples_mean=value,
                           samples_variance=4.0)
        else:
            journal.record("decision", point=point, verdict="rollback", reason="worse", value=value,
                           incumbent_value=best, effect=-0.1, p_value=0.01)
            journal.record("apply", point=incumbent, purpose="rollback")
            journal.record("applied", point=incumbent, purpose="rollback")
        if window % 8 == 0:
            journal.remeasure(incumbent, best, window)
    return len(journal.lines), journal.write(state)


def write_finished_study_journal(state, remeasures):
    """A journal of a finished study (its baseline, then `done`) followed by `remeasures` re-measured
    windows of its best: past journal_limit_mb, so the agent compacts it when it starts."""
    rng = random.Random(3)
    journal = JournalText()
    best = {"pool": 8, "batch": 4}
    journal.baseline(best, 100.0)
    journal.record("done", reason="budget spent")
    for _ in range(remeasures):
        journal.remeasure(best, rng.uniform(95, 105), 1)
    return journal.write(state)


def start_daemon(trimtab, config, scratch, name, notify):
    log_path = os.path.join(scratch, f"{name}.log")
    log = open(log_path, "w")
    stat = os.fstat(log.fileno())
    env = dict(os.environ, NOTIFY_SOCKET=notify.env, JOURNAL_STREAM=f"{stat.st_dev}:{stat.st_ino}")
    process = subprocess.Popen([trimtab, "run", config, "--create-token"], stdout=subprocess.DEVNULL, stderr=log,
                               env=env)
    return process, log_path


def check_daemon(trimtab, scratch, service_port):
    notify = NotifySocket()
    state = os.path.join(scratch, "state-fresh")
    config = os.path.join(scratch, "fresh.yaml")
    control = free_port()
    write_config(config, port=service_port, control=control, state=state)
    process, log_path = start_daemon(trimtab, config, scratch, "fresh", notify)
    footprint = {}
    try:
        ready = notify.expect("READY=1", 30)
        # Ready means replayed and listening: the journal exists and the control server answers.
        assert os.path.exists(os.path.join(state, "journal.jsonl"))
        with socket.create_connection(("127.0.0.1", control), timeout=5):
            pass
        assert any("STATUS=tuning" in m for m in ready), ready
        footprint["after start"] = rss(process.pid)
        # libpq (and the 21 libraries it needs) is loaded only for PostgreSQL and PgBouncer.
        with open(f"/proc/{process.pid}/maps") as maps:
            mapped = maps.read()
        assert "libpq.so" not in mapped and "libgnutls" not in mapped, \
            "an agent with no postgres or pgbouncer adapter mapped libpq"
        time.sleep(6)  # a few windows on the test service
        footprint["after 6 s tuning"] = rss(process.pid)

        process.send_signal(signal.SIGHUP)
        notify.expect("RELOADING=1", 10)
        notify.expect("READY=1", 30)
        assert process.poll() is None, "the agent exited on SIGHUP instead of starting again"

        process.send_signal(signal.SIGTERM)
        notify.expect("STOPPING=1", 10)
        assert process.wait(timeout=30) == 0, f"exit status {process.returncode} after SIGTERM"
    finally:
        stop(process)
    with open(log_path) as f:
        log = f.read()
    lines = [line for line in log.splitlines() if line]
    assert lines and all(re.match(r"<[3467]>", line) for line in lines), f"lines without a priority:\n{log}"
    assert "<6>journal: replayed 0 records" in log and "<6>stopped" in log, log
    with open(os.path.join(state, "journal.jsonl")) as f:
        starts = [json.loads(line) for line in f if '"type":"start"' in line]
    assert len(starts) == 2 and starts[1]["resumed"], "the reload did not start again from the journal"
    return footprint


def check_long_journal_footprint(trimtab, scratch, service_port, windows):
    notify = NotifySocket()
    state = os.path.join(scratch, "state-long")
    records, size = write_long_journal(state, windows)
    config = os.path.join(scratch, "long.yaml")
    write_config(config, port=service_port, control=free_port(), state=state)
    process, log_path = start_daemon(trimtab, config, scratch, "long", notify)
    try:
        started = time.monotonic()
        notify.expect("READY=1", 60)
        replay_seconds = time.monotonic() - started
        resident = rss(process.pid)
        peak = rss(process.pid, "VmHWM")
        time.sleep(3)
        resident_later = rss(process.pid)
    finally:
        stop(process)
    with open(log_path) as f:
        assert f"replayed {records} records" in f.read()
    return records, size, replay_seconds, resident, peak, resident_later


def check_compaction_footprint(trimtab, scratch, service_port, remeasures):
    """Starts the agent on write_finished_study_journal's journal: it replays it, compacts it (the
    log says so, journal.jsonl.1 keeps the original) and becomes ready; returns the journal's size
    before and after, and the agent's peak resident memory."""
    notify = NotifySocket()
    state = os.path.join(scratch, "state-compact")
    size = write_finished_study_journal(state, remeasures)
    assert size > 8 * MIB, f"the journal ({size} bytes) is not past journal_limit_mb"
    config = os.path.join(scratch, "compact.yaml")
    write_config(config, port=service_port, control=free_port(), state=state)
    process, log_path = start_daemon(trimtab, config, scratch, "compact", notify)
    try:
        notify.expect("READY=1", 60)
        peak = rss(process.pid, "VmHWM")
    finally:
        stop(process)
    with open(log_path) as f:
        assert "journal: compacted from" in f.read(), "the agent did not compact the journal at start"
    assert os.path.getsize(os.path.join(state, "journal.jsonl.1")) == size
    return size, os.path.getsize(os.path.join(state, "journal.jsonl")), peak


def main():
    build_dir, source_dir = sys.argv[1:3]
    scratch = tempfile.mkdtemp(prefix="trimtab-package-")
    service = None
    try:
        debs = build_packages(build_dir, os.path.join(scratch, "debs"))
        facts = check_contents(debs)
        root = os.path.join(scratch, "root")
        trimtab = unpack(debs, root)
        commands = check_manpage(trimtab, root)
        check_completion(root, scratch)
        exposure = check_unit(root, scratch)
        tags = check_lintian(debs, source_dir)

        service, port = start_test_service(scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        footprint = check_daemon(trimtab, scratch, port)
        windows = 10_000
        records, size, replay_seconds, resident, peak, resident_later = \
            check_long_journal_footprint(trimtab, scratch, port, windows)
        remeasures = 16_000
        compact_before, compact_after, compact_peak = check_compaction_footprint(trimtab, scratch, port, remeasures)

        print(f"packages: " + ", ".join(f"{n} {s / 1024:.0f} KiB" for n, s in facts["sizes"].items()))
        print(f"trimtab Depends (dpkg-shlibdeps): {facts['trimtab Depends']}")
        print(f"trimtab-dev Depends: {facts['trimtab-dev Depends']}")
        print(f"man page: {commands} commands from --help")
        print(f"systemd-analyze security: {exposure}")
        print("lintian: " + (", ".join(tags) if tags else "clean") + " (explained in packaging/debian/lintian-tags.txt)")
        print()
        print(f"{'footprint':<44}{'RSS':>10}")
        for what, value in footprint.items():
            print(f"{'empty state dir, ' + what:<44}{value / MIB:>6.1f} MiB")
        print(f"{f'{windows} windows replayed ({records} records, {size / MIB:.1f} MiB)':<44}{resident / MIB:>6.1f} MiB"
              f"   (ready after {replay_seconds:.1f} s)")
        print(f"{'... its peak while replaying':<44}{peak / MIB:>6.1f} MiB")
        print(f"{'... and 3 s later, tuning':<44}{resident_later / MIB:>6.1f} MiB")
        print(f"{f'a finished study + {remeasures} re-measured windows ({compact_before / MIB:.1f} MiB),':<44}")
        print(f"{f'  compacted at start to {compact_after / 1024:.0f} KiB: peak':<44}{compact_peak / MIB:>6.1f} MiB")
        print(f"journal: {size / windows:.0f} bytes a window")
        # Asserted: the goal, that a long study costs little beyond what the agent holds after
        # start, and that no journal is ever held in memory whole. About 7 MiB of the process is
        # the binary's and the libraries' pages.
        after = max(resident, resident_later)
        for what, value in (("replaying", peak), ("compacting", compact_peak)):
            assert value - footprint["after start"] <= MAX_PEAK_GROWTH, \
                f"the peak while {what} is {(value - footprint['after start']) / MIB:.1f} MiB over the start's"

        print(f"goal: at most {FOOTPRINT_GOAL / MIB:.0f} MiB after {windows} windows: "
              + ("met" if after <= FOOTPRINT_GOAL else f"not met ({after / MIB:.1f} MiB)"))
        assert after <= FOOTPRINT_GOAL, f"{after / MIB:.1f} MiB after {windows} windows, over the goal"
        assert after - footprint["after start"] <= MAX_GROWTH, \
            f"{(after - footprint['after start']) / MIB:.1f} MiB more after {windows} windows than after start"
    finally:
        if service is not None:
            stop(service)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
