#!/usr/bin/env python3
"""End-to-end test of `trimtab probe --file`. Usage: probe_test.py TRIMTAB DATA_DIR"""

import os
import subprocess
import sys
import unittest

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
DATA = sys.argv[2] if len(sys.argv) > 2 else "tests/data"


def probe(*args):
    return subprocess.run([TRIMTAB, "probe", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=30)


class Probe(unittest.TestCase):
    def test_lists_families_with_types_and_counts(self):
        result = probe("--file", os.path.join(DATA, "service.prom"))
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
        self.assertEqual(rows, [["http_requests_total", "counter", "2"],
                                ["http_request_duration_seconds", "histogram", "5"],
                                ["process_resident_memory_bytes", "gauge", "1"],
                                ["pool_busy", "untyped", "1"]])
        self.assertTrue(result.stdout.splitlines()[-1].startswith("4 families, 9 samples"))

    def test_malformed_lines_are_located_and_exit_2(self):
        path = os.path.join(DATA, "malformed.prom")
        result = probe("--file", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:2:5: expected a number", result.stderr)
        self.assertIn("2 families, 2 samples", result.stdout)  # the lines around it still count

    def test_usage_errors(self):
        self.assertEqual(probe().returncode, 1)
        self.assertEqual(probe("--file", "/nonexistent.prom").returncode, 1)
        self.assertEqual(probe("--file", os.path.join(DATA, "service.prom"), "--format", "influx").returncode, 1)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
