"""The benchmark's test problems: each defined once, with its parameter space, its objective, its
constraints (if any) and its known global optimum f*.

Every problem is minimised. A problem's objective takes a dict of parameter values, the same dict a
solver proposes (trimtab's JSON "params", or Optuna's suggestions mapped back to values), so both
sides of the benchmark evaluate exactly the same function.

`check_optima()` re-derives every f* (from the literature's minimisers, or by the enumeration and
search described next to each constant) and is run before every benchmark, so a problem edited
without updating its constant fails loudly instead of producing wrong regrets.
"""

import json
import math
import random
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class Param:
    """One knob, in the terms trimtab's `params:` YAML uses."""
    name: str
    kind: str  # "float", "int", "ordinal" or "categorical"
    low: float = 0.0
    high: float = 0.0
    step: int = 1
    log: bool = False
    choices: tuple = ()

    def yaml(self):
        """This parameter as one line of a `params:` map."""
        if self.kind == "float":
            text = f"{{type: float, min: {float(self.low)!r}, max: {float(self.high)!r}"
        elif self.kind == "int":
            text = f"{{type: int, min: {int(self.low)}, max: {int(self.high)}"
            if self.step != 1:
                text += f", step: {self.step}"
        else:
            # JSON strings and numbers are valid YAML flow scalars, and quoting labels keeps a label
            # such as "on" or "null" from being read as a boolean or null.
            text = f"{{type: {self.kind}, choices: {json.dumps(list(self.choices))}"
        if self.log:
            text += ", log: true"
        return f"  {self.name}: {text}}}"


@dataclass(frozen=True)
class Problem:
    name: str
    params: tuple
    objective: Callable[[dict], float]
    f_star: float
    description: str
    # Slack-form constraint values (each holds when <= 0), or None for an unconstrained problem.
    constraints: Optional[Callable[[dict], list]] = None
    # Standard deviation of the multiplicative noise on the value the solver is told (0: exact).
    noise: float = 0.0
    # A configuration at which the objective reaches f*, for the sanity check (None if f* was found
    # by search and is checked by repeating the search).
    minimiser: Optional[dict] = field(default=None, compare=False)

    def space_yaml(self):
        return "params:\n" + "\n".join(p.yaml() for p in self.params) + "\n"


def floats(names, low, high):
    return tuple(Param(n, "float", low, high) for n in names)


def xs(params, names):
    return [params[n] for n in names]


# --- 1. Branin-2D ---------------------------------------------------------------------------------
# Three global minimisers, (-pi, 12.275), (pi, 2.275), (9.42478, 2.475); f* from the literature.

_B_A, _B_B, _B_C = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
_B_R, _B_S, _B_T = 6.0, 10.0, 1 / (8 * math.pi)


def branin_xy(x1, x2):
    return _B_A * (x2 - _B_B * x1 ** 2 + _B_C * x1 - _B_R) ** 2 + _B_S * (1 - _B_T) * math.cos(x1) + _B_S


def branin(p):
    return branin_xy(p["x1"], p["x2"])


BRANIN_PARAMS = (Param("x1", "float", -5.0, 10.0), Param("x2", "float", 0.0, 15.0))

# --- 2. Hartmann-6D -------------------------------------------------------------------------------

_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
        (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
_H_P = tuple(tuple(v * 1e-4 for v in row) for row in (
    (1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381)))
_H_NAMES = tuple(f"x{i}" for i in range(1, 7))


def hartmann6(p):
    x = xs(p, _H_NAMES)
    return -sum(alpha * math.exp(-sum(a * (xj - pj) ** 2 for a, xj, pj in zip(row_a, x, row_p)))
                for alpha, row_a, row_p in zip(_H_ALPHA, _H_A, _H_P))


# --- 3. Rosenbrock-4D -----------------------------------------------------------------------------

_R_NAMES = tuple(f"x{i}" for i in range(1, 5))


def rosenbrock4(p):
    x = xs(p, _R_NAMES)
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


# --- 4. Ackley-5D, shifted ------------------------------------------------------------------------
# Textbook Ackley has its minimum at the origin, the centre of the box, which is also where trimtab's
# grid solver starts (the implied default of a symmetric range is its middle): it would "solve" the
# problem with its first evaluation. The optimum is therefore moved to ACKLEY_SHIFT, a point off
# the centre and off every 5-point grid line; the domain and f* = 0 are unchanged.

_A_NAMES = tuple(f"x{i}" for i in range(1, 6))
ACKLEY_SHIFT = (9.3, -14.7, 4.1, -22.6, 17.9)


def ackley5(p):
    z = [xi - si for xi, si in zip(xs(p, _A_NAMES), ACKLEY_SHIFT)]
    d = len(z)
    return (-20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in z) / d))
            - math.exp(sum(math.cos(2 * math.pi * v) for v in z) / d) + 20 + math.e)


# --- 5. A service's p99 latency -------------------------------------------------------------------
# A model of a cache-fronted server under a fixed load, built so that the categorical interacts with
# every number: each eviction policy has its own hit-rate curve, CPU cost, lock contention and GC
# cost, so the best pool size, batch and cache size differ per policy. CLOCK wins (pool 127, batch 32,
# cache 2112 MB) but LFU has a second basin 0.11 ms worse in a very different place (pool 62, cache
# 4096 MB), so a solver can settle in the wrong basin.
#
# The floats are separable given the discrete knobs: the timeout enters as A/t + t/B (retries of a
# short timeout against slots held by a long one), minimised at t = clamp(sqrt(A*B)), and prefetch as
# a quadratic around a sweet spot inside [0, 1]. So f* = the minimum over all 364,000 discrete
# combinations (200 pools x 7 batches x 4 policies x 65 cache sizes) of the closed-form minimum over
# the floats: exact, see service_minimum().

SERVICE_POLICIES = {
    # hit-rate ceiling, MB for 63% of it, CPU ms per request, lock contention, prefetch slope, GC ms per MB
    "lru": (0.85, 700.0, 0.05, 1.0, 0.7, 0.0010),
    "lfu": (0.96, 1200.0, 0.10, 1.3, 0.4, 0.0013),
    "fifo": (0.70, 300.0, 0.01, 0.5, 0.1, 0.0008),
    "clock": (0.80, 500.0, 0.03, 0.6, 0.5, 0.0010),
}
SERVICE_BATCHES = (1, 2, 4, 8, 16, 32, 64)
SERVICE_ARRIVALS_PER_MS = 40.0
SERVICE_PARAMS = (
    Param("pool", "int", 1, 200),
    Param("batch", "ordinal", choices=SERVICE_BATCHES),
    Param("timeout_ms", "float", 10.0, 10000.0, log=True),
    Param("policy", "categorical", choices=tuple(SERVICE_POLICIES)),
    Param("cache_mb", "int", 0, 4096, step=64),
    Param("prefetch", "float", 0.0, 1.0),
)


def _congestion(rho):
    """Queueing delay in service times, rho/(1-rho), continued linearly past rho = 0.9 so an
    overloaded pool has a large but finite latency that still ranks 'less overloaded' better."""
    return rho / (1 - rho) if rho < 0.9 else 9.0 + 100.0 * (rho - 0.9)


def _service_discrete(pool, batch, policy, cache_mb):
    """The part fixed by the discrete knobs: (latency in ms, A and B of the timeout term, the best
    prefetch)."""
    ceiling, reach, cpu_ms, lock, prefetch_slope, gc_per_mb = SERVICE_POLICIES[policy]
    hit = ceiling * (1 - math.exp(-cache_mb / reach))
    # A request costs CPU, then a cache hit (0.3 ms) or a backend round trip (6 ms); batching
    # amortises a 1 ms per-call overhead.
    service_ms = cpu_ms + 0.3 * hit + 6.0 * (1 - hit) + 1.0 / batch
    rho = SERVICE_ARRIVALS_PER_MS * service_ms / pool
    queueing = 2.0 * service_ms * _congestion(rho)
    contention = 0.012 * lock * pool ** 1.5 / batch ** 0.25  # batching takes the lock less often
    filling = 1.5 * batch / SERVICE_ARRIVALS_PER_MS  # waiting for a batch to fill
    gc = gc_per_mb * cache_mb
    latency = 2.0 + service_ms + queueing + contention + filling + gc
    retry_cost = 3000.0 * (1 - hit)  # misses make the slow tail that a short timeout cuts and retries
    hold_cost = 20.0 * pool  # a long timeout holds slots; a bigger pool has more to spare
    best_prefetch = min(1.0, cache_mb / 4096 * prefetch_slope)
    return latency, retry_cost, hold_cost, best_prefetch


def service(p):
    latency, a, b, best_prefetch = _service_discrete(p["pool"], p["batch"], p["policy"], p["cache_mb"])
    t = p["timeout_ms"]
    return latency + a / t + t / b + 6.0 * (p["prefetch"] - best_prefetch) ** 2


def service_minimum():
    """(f*, minimiser) by enumerating every discrete combination and minimising the floats in
    closed form (see above)."""
    timeout = SERVICE_PARAMS[2]
    best = (math.inf, None)
    for policy in SERVICE_POLICIES:
        for cache_mb in range(0, 4097, 64):
            for batch in SERVICE_BATCHES:
                for pool in range(1, 201):
                    latency, a, b, best_prefetch = _service_discrete(pool, batch, policy, cache_mb)
                    t = min(timeout.high, max(timeout.low, math.sqrt(a * b)))  # a/t + t/b is convex
                    value = latency + a / t + t / b
                    if value < best[0]:
                        best = (value, {"pool": pool, "batch": batch, "timeout_ms": t, "policy": policy,
                                        "cache_mb": cache_mb, "prefetch": best_prefetch})
    return best


# --- 6. Constrained: Parr et al.'s "new Branin" ---------------------------------------------------
# minimise -(x1 - 10)^2 - (x2 - 15)^2 subject to branin(x1, x2) <= 5, on Branin's box (Parr, Keane,
# Forrester & Holden 2012; also in Sasena's thesis). The objective pulls towards the corner (-5, 0)
# while only Branin's three valleys are feasible (about 8.5% of the box), and the optimum, about
# (3.273, 0.0489), sits on the constraint's boundary. Published f* is -268.788; the constant below
# was computed by newbranin_minimum().

def newbranin(p):
    return -(p["x1"] - 10) ** 2 - (p["x2"] - 15) ** 2


def newbranin_constraints(p):
    return [branin(p) - 5.0]


def newbranin_minimum():
    """(f*, minimiser). For fixed x1, Branin is a parabola in x2 (a = 1), so the feasible x2 form the
    interval u -/+ w with u = b x1^2 - c x1 + r and w = sqrt(5 - s(1-t)cos x1 - s); the objective
    wants x2 as far below 15 as possible, so the best x2 is max(0, u - w). That leaves a 1-D problem
    in x1: a dense scan of 200,001 points, then golden-section refinement around the best."""
    def best_at(x1):
        room = 5.0 - _B_S * (1 - _B_T) * math.cos(x1) - _B_S
        if room < 0:
            return math.inf, None
        u, w = _B_B * x1 ** 2 - _B_C * x1 + _B_R, math.sqrt(room / _B_A)
        x2 = max(0.0, u - w)
        if x2 > min(15.0, u + w):
            return math.inf, None
        return -(x1 - 10) ** 2 - (x2 - 15) ** 2, x2

    n, low, high = 200_000, -5.0, 10.0
    i = min(range(n + 1), key=lambda k: best_at(low + (high - low) * k / n)[0])
    a, b = low + (high - low) * max(0, i - 1) / n, low + (high - low) * min(n, i + 1) / n
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if best_at(c)[0] < best_at(d)[0]:
            b = d
        else:
            a = c
    x1 = (a + b) / 2
    value, x2 = best_at(x1)
    return value, {"x1": x1, "x2": x2}


# --- The registry ---------------------------------------------------------------------------------

# The default noise of the -noisy problems (bench.py --noise sets another).
NOISE = 0.05

_BASE = (
    Problem("branin2", BRANIN_PARAMS, branin, 0.397887357729739,
            "Branin, 2-D, x1 in [-5, 10], x2 in [0, 15]; three global minimisers",
            minimiser={"x1": -math.pi, "x2": 12.275}),
    Problem("hartmann6", floats(_H_NAMES, 0.0, 1.0), hartmann6, -3.32236801141551,
            "Hartmann, 6-D, [0, 1]^6",
            minimiser=dict(zip(_H_NAMES, (0.20168951, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730053)))),
    Problem("rosenbrock4", floats(_R_NAMES, -5.0, 10.0), rosenbrock4, 0.0,
            "Rosenbrock, 4-D, [-5, 10]^4; minimiser (1, 1, 1, 1) at the end of a curved valley",
            minimiser=dict.fromkeys(_R_NAMES, 1.0)),
    Problem("ackley5", floats(_A_NAMES, -32.768, 32.768), ackley5, 0.0,
            "Ackley, 5-D, [-32.768, 32.768]^5, optimum shifted off the centre to " + str(ACKLEY_SHIFT),
            minimiser=dict(zip(_A_NAMES, ACKLEY_SHIFT))),
    # f* = service_minimum()[0], computed once (0.3 s) and recorded here.
    Problem("service", SERVICE_PARAMS, service, 15.272675985426343,
            "p99 latency (ms) of a model service: int pool, ordinal batch, log-float timeout, "
            "categorical eviction policy, stepped-int cache MB, float prefetch"),
    # f* = newbranin_minimum()[0], computed once and recorded here.
    Problem("newbranin", BRANIN_PARAMS, newbranin, -268.7885046712469,
            "Parr et al.'s constrained 'new Branin': -(x1-10)^2 - (x2-15)^2 s.t. branin(x) <= 5",
            constraints=newbranin_constraints),
)

def noisy_variant(problem, noise):
    """`problem` with its told value multiplied by (1 + noise N(0, 1))."""
    return Problem(problem.name + "-noisy", problem.params, problem.objective, problem.f_star,
                   problem.description + f"; told f*(1 + {noise:g} N(0,1))",
                   constraints=problem.constraints, noise=noise, minimiser=problem.minimiser)


def at_noise(name, noise):
    """The problem called `name`, a -noisy one at noise level `noise` instead of the default."""
    if not name.endswith("-noisy"):
        return PROBLEMS[name]
    return noisy_variant(PROBLEMS[name.removesuffix("-noisy")], noise)


PROBLEMS = {p.name: p for p in _BASE}
for _p in _BASE:
    PROBLEMS[_p.name + "-noisy"] = noisy_variant(_p, NOISE)


def random_point(problem, rng):
    """A uniformly random configuration (log-uniform for log ranges), for the sanity check."""
    point = {}
    for p in problem.params:
        if p.kind == "float":
            point[p.name] = (math.exp(rng.uniform(math.log(p.low), math.log(p.high))) if p.log
                             else rng.uniform(p.low, p.high))
        elif p.kind == "int":
            point[p.name] = rng.randrange(int(p.low), int(p.high) + 1, p.step)
        else:
            point[p.name] = rng.choice(p.choices)
    return point


def feasible(problem, point):
    return problem.constraints is None or all(c <= 0 for c in problem.constraints(point))


def check_optima(names, samples=20_000):
    """Raises AssertionError when a problem's f* constant is wrong: it must be reached at the
    recorded minimiser (or by re-running the search that produced it), and no random feasible point
    may beat it."""
    recomputed = {"service": service_minimum, "newbranin": newbranin_minimum}
    for name in names:
        problem = PROBLEMS[name]
        base = name.removesuffix("-noisy")
        if base in recomputed:
            value, _ = recomputed[base]()
        else:
            value = problem.objective(problem.minimiser)
        assert abs(value - problem.f_star) <= 1e-7 * max(1.0, abs(problem.f_star)), \
            f"{name}: f* is recorded as {problem.f_star!r} but the check finds {value!r}"
        rng = random.Random(name)
        for _ in range(samples):
            point = random_point(problem, rng)
            if feasible(problem, point):
                assert problem.objective(point) >= problem.f_star - 1e-9, f"{name}: {point} beats f*"
