#!/usr/bin/env python3
"""End-to-end test of `trimtab solve`: the real binary, driven over pipes as a script in any
language would drive it. Usage: solve_protocol_test.py TRIMTAB SPACE.yaml"""

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
SPACE = sys.argv[2] if len(sys.argv) > 2 else "examples/spaces/service.yaml"


def service_cost(params):
    """A smooth cost with its optimum inside the space, so a solver has something to find."""
    policy_penalty = {"lru": 0.0, "lfu": 5.0, "random": 15.0}[params["policy"]]
    return ((params["pool_size"] - 40) ** 2 / 50
            + (math.log(params["timeout_ms"]) - math.log(800)) ** 2 * 10
            + abs(params["batch"] - 8) + policy_penalty)


def drive(args, answer, timeout=60):
    """Runs trimtab solve, answering each proposal with answer(proposal); returns
    (exit code, proposals, summary or None, stderr)."""
    proc = subprocess.Popen([TRIMTAB, "solve", "--space", SPACE, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proposals, summary = [], None
    try:
        for line in proc.stdout:
            message = json.loads(line)
            if "best" in message:
                summary = message
                break
            proposals.append(message)
            reply = answer(message)
            if reply is None:
                proc.stdin.close()
                break
            proc.stdin.write(reply + "\n")
            proc.stdin.flush()
    except BrokenPipeError:
        pass
    code = proc.wait(timeout=timeout)
    return code, proposals, summary, proc.stderr.read()


def value_reply(message):
    return json.dumps({"id": message["id"], "value": service_cost(message["params"])})


class SolveProtocol(unittest.TestCase):
    def check_proposals(self, proposals):
        for p in proposals:
            params = p["params"]
            self.assertEqual(list(params), ["pool_size", "timeout_ms", "batch", "policy"])
            self.assertIsInstance(params["pool_size"], int)
            self.assertTrue(5 <= params["pool_size"] <= 100)
            self.assertTrue(100 <= params["timeout_ms"] <= 5000)
            self.assertIn(params["batch"], [4, 8, 16])
            self.assertIn(params["policy"], ["lru", "lfu", "random"])
        keys = [json.dumps(p["params"], sort_keys=True) for p in proposals]
        self.assertEqual(len(keys), len(set(keys)), "a configuration was proposed twice")

    def test_random_solver_end_to_end(self):
        code, proposals, summary, err = drive(["--solver", "random", "--budget", "40", "--seed", "3"], value_reply)
        self.assertEqual(code, 0, err)
        self.assertEqual([p["id"] for p in proposals], list(range(40)))
        self.check_proposals(proposals)
        best = min(proposals, key=lambda p: service_cost(p["params"]))
        self.assertEqual(summary["best"]["id"], best["id"])
        self.assertEqual(summary["best"]["params"], best["params"])
        self.assertAlmostEqual(summary["best"]["value"], service_cost(best["params"]))
        self.assertEqual(summary["evaluations"], 40)

    def test_bayes_solver_end_to_end(self):
        code, proposals, summary, err = drive(["--solver", "bayes", "--budget", "40", "--seed", "1"], value_reply)
        self.assertEqual(code, 0, err)
        self.check_proposals(proposals)
        # The optimum (pool 40, timeout 800, batch 8, lru) costs 0; 40 random points get about 2.
        self.assertLess(summary["best"]["value"], 0.5)
        # Every proposal after the first names the incumbent: an earlier id with the lowest cost.
        for p in proposals[1:]:
            earlier = proposals[:p["id"]]
            lowest = min(earlier, key=lambda q: service_cost(q["params"]))
            self.assertEqual(service_cost(proposals[p["incumbent"]]["params"]), service_cost(lowest["params"]))

    def test_bayes_with_standard_errors_ignores_a_lucky_draw(self):
        # Noisy measurements told with their standard error; one proposal comes back absurdly low
        # with a large standard error (a window with wild spread). The best line is not that one.
        noise = random.Random(5)
        lucky = {}

        def answer(message):
            cost = service_cost(message["params"])
            if message["id"] == 12:
                lucky["params"] = message["params"]
                return json.dumps({"id": 12, "value": -50.0, "sem": 30.0})
            return json.dumps({"id": message["id"], "value": cost + noise.gauss(0.0, 0.3), "sem": 0.3})
        code, proposals, summary, err = drive(["--solver", "bayes", "--budget", "30", "--seed", "2"], answer)
        self.assertEqual(code, 0, err)
        self.check_proposals(proposals)
        self.assertNotEqual(summary["best"]["id"], 12)
        self.assertNotEqual(summary["best"]["params"], lucky["params"])
        self.assertEqual(summary["best"]["sem"], 0.3)
        # Its true cost is among the best third of what was measured.
        costs = sorted(service_cost(p["params"]) for p in proposals)
        self.assertLessEqual(service_cost(summary["best"]["params"]), costs[len(costs) // 3])

    def test_same_seed_same_proposals(self):
        runs = [drive(["--budget", "10", "--seed", str(s)], value_reply)[1] for s in (9, 9, 10)]
        self.assertEqual(runs[0], runs[1])
        self.assertNotEqual(runs[0], runs[2])

    def test_grid_solver_starts_at_the_default_and_finishes(self):
        code, proposals, summary, err = drive(["--solver", "grid", "--budget", "1000", "--maximize"], value_reply)
        self.assertEqual(code, 0, err)
        self.assertEqual(proposals[0]["params"]["pool_size"], 20)  # the written default
        self.assertEqual(proposals[0]["params"]["batch"], 8)       # the middle choice
        self.check_proposals(proposals)
        self.assertEqual(len(proposals), 5 * 5 * 3 * 3 + 1)       # the grid, plus the off-grid default
        self.assertEqual(summary["best"]["value"], max(service_cost(p["params"]) for p in proposals))

    def test_failed_candidates_are_recorded(self):
        def answer(message):
            if message["params"]["policy"] == "random":
                return json.dumps({"id": message["id"], "failed": True})
            return value_reply(message)
        code, proposals, summary, err = drive(["--budget", "30"], answer)
        self.assertEqual(code, 0, err)
        self.assertNotEqual(summary["best"]["params"]["policy"], "random")

    def test_malformed_result_exits_2_naming_the_line(self):
        def answer(message):
            return value_reply(message) if message["id"] == 0 else '{"id": 1, "value": oops}'
        code, _, summary, err = drive(["--budget", "5"], answer)
        self.assertEqual(code, 2)
        self.assertIsNone(summary)
        self.assertIn("trimtab solve: input line 2: not valid JSON", err)

    def test_input_ending_early_exits_2(self):
        code, proposals, summary, err = drive(["--budget", "5"], lambda m: None)
        self.assertEqual(code, 2)
        self.assertEqual(len(proposals), 1)
        self.assertIn("input ended before the result for id 0", err)

    def test_history_warm_start(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as history:
            history.write(json.dumps({"params": {"pool_size": 40, "timeout_ms": 800.0, "batch": 8,
                                                 "policy": "lru"}, "value": -1}) + "\n")
        try:
            code, proposals, summary, err = drive(["--budget", "5", "--history", history.name], value_reply)
        finally:
            os.unlink(history.name)
        self.assertEqual(code, 0, err)
        self.assertTrue(summary["best"]["from_history"])
        self.assertEqual(summary["best"]["value"], -1)

    def test_config_errors_name_file_line_and_column(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as space:
            space.write("params:\n  pool: {type: int, min: 1, mx: 5}\n")
        try:
            proc = subprocess.run([TRIMTAB, "solve", "--space", space.name], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=30)
        finally:
            os.unlink(space.name)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(space.name + ":2:", proc.stderr)
        self.assertIn("did you mean 'max'?", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_usage_errors(self):
        for args, message in ((["solve"], "--space FILE is required"),
                              (["solve", "--space", SPACE, "--solver", "annealing"], "unknown solver 'annealing'"),
                              (["solve", "--space", SPACE, "--budget", "many"], "budget")):
            proc = subprocess.run([TRIMTAB, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=30)
            self.assertEqual(proc.returncode, 1, args)
            self.assertIn(message, proc.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
