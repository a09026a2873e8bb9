#!/usr/bin/env python3
"""The agent's status page in a real browser: `trimtab run` tunes tests/agent/test_service.py on
loopback, then headless Chromium loads GET / from the control server, dumps the DOM and takes a
screenshot. The DOM must hold the SVG chart with its markers, and the screenshot (decoded here,
without PIL) must show the chart: the incumbent step line as a long horizontal run of its colour,
and the markers' colours.

Needs the Debian package `chromium` (scripts/test.sh installs it); without it the test fails.
Set TRIMTAB_SCREENSHOT_DIR to keep a copy of the screenshot (status_page.png) there.

Usage: status_page_test.py TRIMTAB
"""

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zlib

from service_harness import free_port, read_journal, start_test_service, wait_for, write_tuning_config

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
WIDTH, HEIGHT = 1100, 900
CHROMIUM_TIMEOUT = 60

# Colours of agent/src/study_report.cpp's chart.
INCUMBENT = (0x1B, 0x6B, 0x3A)
MARKERS = {
    "promote": (0x1F, 0x9D, 0x55),
    "keep": (0x8A, 0x93, 0x9E),
    "rollback": (0xD6, 0x45, 0x45),
    "discard": (0xC2, 0x7C, 0x0E),
    "pending": (0x3B, 0x82, 0xF6),
}


def stop(process):
    """Ends a process this test started, and every process in its session (Chromium's children)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


# --- PNG -------------------------------------------------------------------------------------------

def read_png(path):
    """(width, height, channels, rows): rows of bytes, 8-bit RGB or RGBA, unfiltered."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"{path} is not a PNG (starts with {data[:8]!r})")
    pos, header, idat = 8, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise AssertionError(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise AssertionError(f"{path}: no IHDR or no IDAT")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace != 0:
        raise AssertionError(f"{path}: unsupported PNG (depth {depth}, colour type {colour_type}, "
                             f"interlace {interlace}); expected 8-bit RGB or RGBA, not interlaced")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise AssertionError(f"{path}: {len(raw)} bytes of image data, expected {height * (stride + 1)}")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 0:
            pass
        elif kind == 1:  # Sub
            for i in range(channels, stride):
                row[i] = (row[i] + row[i - channels]) & 0xFF
        elif kind == 2:  # Up
            for i in range(stride):
                row[i] = (row[i] + previous[i]) & 0xFF
        elif kind == 3:  # Average
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = row[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (row[i] + predictor) & 0xFF
        else:
            raise AssertionError(f"{path}: row {y} has unknown filter type {kind}")
        rows.append(bytes(row))
        previous = row
    return width, height, channels, rows


def close(pixel, colour, tolerance):
    return all(abs(p - c) <= tolerance for p, c in zip(pixel, colour))


def analyse(rows, channels):
    """Per row: how many pixels are close to each chart colour, and the longest horizontal run of
    the incumbent line's colour."""
    palette = [("incumbent", INCUMBENT, 24)] + [(name, colour, 12) for name, colour in MARKERS.items()]
    cache = {}
    result = []
    for row in rows:
        counts = dict.fromkeys((name for name, _, _ in palette), 0)
        run = longest = 0
        for pixel in zip(row[0::channels], row[1::channels], row[2::channels]):
            name = cache.get(pixel, "")
            if name == "":
                name = cache[pixel] = next((n for n, colour, tol in palette if close(pixel, colour, tol)), None)
            if name is not None:
                counts[name] += 1
            if name == "incumbent":
                run += 1
                longest = max(longest, run)
            else:
                run = 0
        result.append((counts, longest))
    return result


# --- The test --------------------------------------------------------------------------------------

class Chromium:
    """Headless Chromium runs for a test case with self.chromium and self.dir."""

    def run_chromium(self, *args, headless="--headless=new"):
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        command = [self.chromium, headless, "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={os.path.join(home, 'profile')}",
                   "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                   "--disable-dev-shm-usage", *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, err = process.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            stop(process)
            out, err = process.communicate()
            return None, out.decode(errors="replace"), f"timed out after {CHROMIUM_TIMEOUT} s\n" + err.decode(errors="replace")
        finally:
            stop(process)  # whatever it left behind in its session
        return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def chromium_both_modes(self, *args, ok, output=None):
        """Runs with --headless=new, then with the old --headless if that did not work."""
        attempts = []
        for headless in ("--headless=new", "--headless"):
            if output and os.path.exists(output):
                os.remove(output)
            code, out, err = self.run_chromium(*args, headless=headless)
            if code == 0 and ok(out):
                return out
            attempts.append(f"{headless}: exit {code}\n{err[-3000:]}")
        self.fail("chromium " + " ".join(args) + " failed:\n" + "\n".join(attempts))


class StatusPage(Chromium, unittest.TestCase):
    def setUp(self):
        self.chromium = shutil.which("chromium")
        if self.chromium is None:
            self.fail("chromium is not installed: install the Debian package with "
                      "`apt-get install -y --no-install-recommends chromium` (scripts/test.sh does)")
        self.dir = tempfile.mkdtemp(prefix="trimtab-status-page-")
        self.service = self.agent = None
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.addCleanup(lambda: stop(self.service))
        self.addCleanup(lambda: stop(self.agent))

        self.service, self.port = start_test_service(self.dir, start_new_session=True)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.control = free_port()
        write_tuning_config(self.config, port=self.port, control=self.control, state=self.state,
                            interval="100ms", settle="300ms", duration="1200ms", budget=6)
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.addCleanup(self.log.close)
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stdout=self.log,
                                      stderr=self.log, stdin=subprocess.DEVNULL, start_new_session=True)

    def journal(self):
        return read_journal(self.state)

    def decisions(self):
        return [r for r in self.journal() if r.get("type") == "decision"]

    def agent_log(self):
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()

    def test_status_page_renders_with_its_chart(self):
        wait_for(lambda: len(self.decisions()) >= 3, 90, "three decisions")
        url = f"http://127.0.0.1:{self.control}/"
        with urllib.request.urlopen(url, timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("text/html", r.headers.get("Content-Type", ""))

        # The DOM as the browser built it.
        dom = self.chromium_both_modes("--dump-dom", url, ok=lambda out: "<svg" in out)
        self.assertIn("<svg", dom)
        markers = re.findall(r'<(?:circle|path)\b[^>]*\bclass="([^"]*\bmarker\b[^"]*)"', dom)
        self.assertGreaterEqual(len(markers), 3, f"markers in the DOM: {markers}")

        # The constraints, each with how the best stands against it; each decided window's
        # configuration, its values short (no 16-digit floats).
        self.assertRegex(dom, r'<ul class="constraints"><li class="constraint (holds|broken|unknown)"><code>p99_ms &lt;= 250</code>')
        configurations = re.findall(r'<td class="configuration">([^<]*)</td>', dom)
        self.assertGreaterEqual(len(configurations), 3, dom[-3000:])
        for configuration in configurations:
            self.assertRegex(configuration, r"^pool=\S+ batch=\S+$")
            self.assertNotRegex(configuration, r"\d\.\d{5,}")

        # The screenshot.
        screenshot = os.path.join(self.dir, "status_page.png")
        def took():
            return os.path.exists(screenshot) and os.path.getsize(screenshot) > 0
        self.chromium_both_modes(f"--screenshot={screenshot}", url, ok=lambda out: took(), output=screenshot)
        if os.environ.get("TRIMTAB_SCREENSHOT_DIR"):
            os.makedirs(os.environ["TRIMTAB_SCREENSHOT_DIR"], exist_ok=True)
            shutil.copy(screenshot, os.path.join(os.environ["TRIMTAB_SCREENSHOT_DIR"], "status_page.png"))

        width, height, channels, rows = read_png(screenshot)
        self.assertEqual((width, height), (WIDTH, HEIGHT))

        analysis = analyse(rows, channels)
        # The legend across the top of the chart: the first row with its incumbent sample (14 px;
        # the table's highlighted values, also in that colour, are further down).
        legend_y = next((y for y, (_, run) in enumerate(analysis) if run >= 8), None)
        self.assertIsNotNone(legend_y, "no chart legend in the screenshot")
        below = analysis[legend_y + 8:]
        # The incumbent's step line: a long horizontal run of its colour under the legend.
        run, y = max((run, y) for y, (_, run) in enumerate(below))
        self.assertGreaterEqual(run, 100, "no incumbent line in the screenshot")
        # The markers under the legend, in their verdict's colour: a filled circle of radius 5 is
        # about 60 px, a rollback's cross about 40. Keep markers are grey, like the axis labels'
        # antialiased text, so they are not counted.
        counts = {name: sum(c[name] for c, _ in below) for name in MARKERS}
        verdicts = [m.split()[1] for m in markers if len(m.split()) > 1]
        coloured = [m.split()[1] for m in markers
                    if len(m.split()) > 1 and m.split()[1] in MARKERS and m.split()[1] != "keep" and "no-value" not in m]
        drawn = sum(counts[v] for v in set(coloured))
        self.assertGreaterEqual(drawn, 25 * len(coloured),
                                f"marker colours in the screenshot: {counts} (markers in the DOM: {verdicts})")
        incumbent = sum(c["incumbent"] for c, _ in below)
        self.assertGreaterEqual(incumbent + sum(counts[n] for n in MARKERS if n != "keep"), 200,
                                f"too few of the chart's colours in the screenshot: incumbent {incumbent}, {counts}")
        print(f"\nstatus page: markers {verdicts}; incumbent line {run} px long at y {legend_y + 8 + y}; "
              f"marker pixels under the legend {counts}", file=sys.stderr)


class ReportLogAxis(Chromium, unittest.TestCase):
    """A study whose objective fell 100x: `trimtab report` draws it on a log axis, which Chromium
    shows with decade ticks, so the windows after the improvement are not flat on the floor."""

    def setUp(self):
        self.chromium = shutil.which("chromium")
        if self.chromium is None:
            self.fail("chromium is not installed (scripts/test.sh installs it)")
        self.dir = tempfile.mkdtemp(prefix="trimtab-report-log-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_an_objective_spanning_100x_is_drawn_on_a_log_axis(self):
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        t = 1_700_000_000_000
        records = [{"type": "start", "baseline": {"pool": 4}, "enabled": True, "mode": "apply", "resumed": False,
                    "objective": {"direction": "minimize", "expression": "latency_ms"},
                    "constraints": ["p99_ms <= 100"]}]
        values = [200.0, 150.0, 2.0, 2.2, 1.9, 2.1, 1.8]
        for i, value in enumerate(values):
            point = {"pool": 4 + i}
            records.append({"type": "observation", "point": point, "purpose": "baseline" if i == 0 else "candidate",
                            "signals": {"latency_ms": value, "p99_ms": value * 3}, "samples": 8, "window": i,
                            "value": value, "constraints": [value * 3 - 100]})
            verdict = "keep" if i == 0 else ("promote" if i == 2 else "keep")
            records.append({"type": "decision", "point": point, "verdict": verdict, "reason": "test", "value": value,
                            "incumbent_value": None, "effect": None, "p_value": None})
            if i in (0, 2):
                records.append({"type": "incumbent", "point": point, "value": value, "samples_count": 8,
                                "samples_mean": -value, "samples_variance": 1.0})
        with open(os.path.join(state, "journal.jsonl"), "w") as f:
            for seq, record in enumerate(records, 1):
                f.write(json.dumps(dict(record, seq=seq, time=t + seq * 1000)) + "\n")
        html = os.path.join(self.dir, "report.html")
        run = subprocess.run([TRIMTAB, "report", state, html], capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        dom = self.chromium_both_modes("--dump-dom", "file://" + html, ok=lambda out: "<svg" in out)
        self.assertIn("lower is better, log scale", dom)
        ticks = re.findall(r'<text class="tick"[^>]*text-anchor="end"[^>]*>([^<]+)</text>', dom)
        for decade in ("1", "10", "100"):
            self.assertIn(decade, ticks, f"y ticks: {ticks}")
        # The best (pool 6, 2 ms and p99 6 ms) meets the constraint, and the page says so.
        self.assertIn('<li class="constraint holds"><code>p99_ms &lt;= 100</code> holds for the best (6)</li>', dom)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
