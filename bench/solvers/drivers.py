"""Runs one solver on one problem with one seed, and records the simple regret after every
evaluation.

Both families of solvers are driven the same way from the problem's side: an Evaluator computes the
true objective of each proposed configuration and tells the solver a (possibly noisy) value. The
regret after n evaluations is the *true* value of the configuration the solver would pick after n
evaluations, minus f*, so under noise a solver is judged by what it would deploy:
- trimtab names its pick in every proposal ("incumbent": the id it would deploy now) and in its
  final "best" line; a model-based solver may prefer a configuration whose single measurement was
  not the lowest, when it has learned that measurements are noisy.
- Optuna's pick is study.best_trial: the feasible evaluation with the lowest observed value, which
  the Evaluator tracks per evaluation (and checks against best_trial on unconstrained problems;
  Optuna 3.1's best_trial ignores constraints).
"""

import json
import math
import random
import subprocess
import time
import warnings

OPTUNA_SAMPLERS = ("tpe", "random")


class SolverUnavailable(Exception):
    """The solver does not exist here (a trimtab kind this binary does not know, or no Optuna)."""


class Evaluator:
    def __init__(self, problem, seed):
        self.problem = problem
        # The noise depends only on (problem, seed, evaluation number), never on the solver: every
        # solver's k-th evaluation gets the same draw (common random numbers), so differences
        # between solvers are not differences in luck. A string seed is hashed deterministically.
        self.noise = random.Random(f"noise/{problem.name}/{seed}")
        self.best_observed = math.inf
        self.best_params = None
        self.best_regret = math.inf  # no feasible evaluation yet
        self.regrets = []  # regrets[n - 1]: the regret after n evaluations
        self.evaluated = []  # (params, regret if feasible else None) per evaluation, in order

    def sem(self, observed):
        """The standard error a live window would estimate for a told value: the noise model's
        standard deviation at that value, noise x |observed|. It is computed from the told value, not
        the true one (which would leak f itself), and is exact about the noise's size, where a real
        window's estimate is itself noisy."""
        return self.problem.noise * abs(observed)

    def evaluate(self, params):
        """The observation to tell the solver for `params`: (value, constraint values or None)."""
        problem = self.problem
        true_value = problem.objective(params)
        draw = self.noise.gauss(0.0, 1.0)  # drawn even when unused, so the stream stays aligned
        observed = true_value * (1 + problem.noise * draw) if problem.noise else true_value
        # Constraints are measured exactly; only the objective is noisy.
        constraints = problem.constraints(params) if problem.constraints else None
        feasible = constraints is None or all(c <= 0 for c in constraints)
        if feasible and true_value < problem.f_star - 1e-9 * max(1.0, abs(problem.f_star)):
            raise RuntimeError(f"{problem.name}: {params} has f = {true_value!r}, below f* = {problem.f_star!r}")
        self.evaluated.append((dict(params), max(0.0, true_value - problem.f_star) if feasible else None))
        if feasible and observed < self.best_observed:
            self.best_observed, self.best_params = observed, dict(params)
            # Clamp rounding below f* (e.g. Ackley's 4e-16 at its minimiser) to an exact zero.
            self.best_regret = max(0.0, true_value - problem.f_star)
        self.regrets.append(self.best_regret)
        return observed, constraints


def run(solver, problem, seed, budget, trimtab, space_path, tell_sem=True, evaluator=None):
    """Runs `solver` ("trimtab-KIND" or "optuna-SAMPLER") for `budget` evaluations; returns (regret
    per evaluation, seconds, best params). `space_path` is the problem's space as trimtab YAML.
    `tell_sem`: on noisy problems, give trimtab each value's standard error (see Evaluator.sem).
    `evaluator`: an Evaluator (or subclass) to use instead of a fresh one, when the caller wants its
    record of every evaluation or measures differently (bench/live/offline.py replays windows).
    Raises SolverUnavailable or RuntimeError."""
    family, _, kind = solver.partition("-")
    evaluator = evaluator or Evaluator(problem, seed)
    start = time.perf_counter()
    if family == "trimtab":
        _run_trimtab(kind, problem, seed, budget, trimtab, space_path, evaluator, tell_sem)
    elif family == "optuna" and kind in OPTUNA_SAMPLERS:
        _run_optuna(kind, problem, seed, budget, evaluator)
    else:
        raise SolverUnavailable(f"unknown solver '{solver}' (use trimtab-KIND or optuna-{{{','.join(OPTUNA_SAMPLERS)}}})")
    return evaluator.regrets, time.perf_counter() - start, evaluator.best_params


# --- trimtab, through `trimtab solve` -------------------------------------------------------------

def trimtab_command(trimtab, space_path, kind, seed, budget):
    return [trimtab, "solve", "--space", space_path, "--solver", kind, "--seed", str(seed), "--budget", str(budget)]


def probe_trimtab(trimtab, space_path, kind):
    """Raises SolverUnavailable when this trimtab binary does not know solver `kind`: a budget-0
    session starts the solver and ends at once."""
    result = subprocess.run(trimtab_command(trimtab, space_path, kind, 0, 0), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
    if result.returncode == 0:
        return
    if "unknown solver" in result.stderr:
        raise SolverUnavailable(result.stderr.strip())
    raise RuntimeError(f"{trimtab} failed (exit {result.returncode}): {result.stderr.strip()}")


def _run_trimtab(kind, problem, seed, budget, trimtab, space_path, evaluator, tell_sem):
    command = trimtab_command(trimtab, space_path, kind, seed, budget)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, bufsize=1)
    summary = None
    incumbents = {}  # evaluations done -> the id trimtab would deploy then
    try:
        for line in process.stdout:
            message = json.loads(line)
            if "best" in message:
                summary = message
                break
            if "incumbent" in message:
                incumbents[message["id"]] = message["incumbent"]
            value, constraints = evaluator.evaluate(message["params"])
            result = {"id": message["id"], "value": value}
            if tell_sem and problem.noise:
                result["sem"] = evaluator.sem(value)
            if constraints is not None:
                result["constraints"] = constraints
            process.stdin.write(json.dumps(result) + "\n")
            process.stdin.flush()
    finally:
        process.stdin.close()
        stderr = process.stderr.read()
        code = process.wait()
    if code != 0 or summary is None:
        raise RuntimeError(f"{' '.join(command)} exited with {code}: {stderr.strip()}")
    best = summary["best"]
    if best is not None:
        incumbents[summary["evaluations"]] = best["id"]
    # Judge trimtab by its own picks: after n evaluations, the incumbent it named then.
    regrets, current = [], None
    for n in range(1, len(evaluator.evaluated) + 1):
        if n in incumbents:
            current = incumbents[n]
        regret = evaluator.evaluated[current][1] if current is not None else None
        regrets.append(math.inf if regret is None else regret)
    evaluator.regrets = regrets
    evaluator.best_params = evaluator.evaluated[best["id"]][0] if best is not None else None
    if best is not None and best["params"] != evaluator.best_params:
        raise RuntimeError(f"trimtab-{kind} on {problem.name} seed {seed}: its best line names {best['params']}, "
                           f"but id {best['id']} was {evaluator.best_params}")


# --- Optuna, through its ask-and-tell interface ---------------------------------------------------

def _suggest(trial, param):
    """Optuna's closest equivalent of each trimtab kind. Optuna has no ordinal kind: an ordinal is
    suggested as the index of its choice with suggest_int, which keeps the order (batch 8 lies
    between 4 and 16) that suggest_categorical would throw away."""
    if param.kind == "float":
        return trial.suggest_float(param.name, param.low, param.high, log=param.log)
    if param.kind == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high), step=param.step, log=param.log)
    if param.kind == "ordinal":
        return param.choices[trial.suggest_int(param.name, 0, len(param.choices) - 1)]
    return trial.suggest_categorical(param.name, list(param.choices))


def _from_optuna(problem, optuna_params):
    return {p.name: p.choices[optuna_params[p.name]] if p.kind == "ordinal" else optuna_params[p.name]
            for p in problem.params}


def _run_optuna(sampler_kind, problem, seed, budget, evaluator):
    try:
        import optuna
    except ImportError as e:
        raise SolverUnavailable(f"optuna is not importable ({e}); run bench/solvers/setup.sh and use /usr/bin/python3")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_kind == "tpe":
        # The default TPE (independent per parameter, 10 random start-up trials). Its multivariate
        # and constant_liar options also work without scipy in 3.1 but are not defaults.
        # constraints_func is experimental in Optuna 3.1 and warns so on every run.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            constraints_func = (lambda frozen: frozen.user_attrs["constraints"]) if problem.constraints else None
            sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints_func)
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for _ in range(budget):
        trial = study.ask()
        params = {p.name: _suggest(trial, p) for p in problem.params}
        value, constraints = evaluator.evaluate(params)
        if constraints is not None:
            trial.set_user_attr("constraints", constraints)  # read by constraints_func at tell()
        study.tell(trial, value)
    # Optuna 3.1's best_trial ignores constraints, so it can only be compared when there are none.
    if problem.constraints is None:
        reported = _from_optuna(problem, study.best_trial.params)
        if reported != evaluator.best_params:
            raise RuntimeError(f"optuna-{sampler_kind} on {problem.name} seed {seed}: best_trial {reported} "
                               f"is not the tracked best {evaluator.best_params}")
