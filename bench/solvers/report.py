"""Turns regret curves into the markdown table and the per-problem SVG charts (drawn by hand: the
benchmark uses nothing outside the standard library but Optuna)."""

import math
import textwrap
from xml.sax.saxutils import escape


def quantile(values, q):
    """The q-quantile with linear interpolation between order statistics (numpy's default). Regret
    is infinite while a run has found nothing feasible; an interpolation touching an infinite value
    is infinite, rather than the NaN that inf - inf would give."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    a, b = ordered[low], ordered[high]
    if low == high:
        return a
    if math.isinf(b):  # sorted, so a <= b: the result is infinite too
        return b
    return a + (b - a) * (position - low)


def regret_at(curve, n):
    """The regret after n evaluations. A solver that stopped early (the grid solver, once its grid is
    exhausted) keeps the best it had."""
    return curve[min(n, len(curve)) - 1]


def format_regret(x):
    if x == 0:
        return "0"
    if math.isinf(x):
        return "inf"
    if 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    return f"{x:.1e}"  # small (or huge): two significant digits in scientific notation


def table(curves, seconds, problems, solvers, budgets, seeds):
    """Markdown: one row per (problem, solver); per budget the median regret and, in brackets, the
    75th percentile over seeds; the best median of each problem and budget in bold."""
    lines = [f"Simple regret f(best) - f* after n evaluations: median (75th percentile) over {seeds} seeds; "
             "**bold**: lowest median for the problem. `inf`: no feasible evaluation yet.", ""]
    lines.append("| problem | solver | " + " | ".join(f"n={n}" for n in budgets) + " | s/run |")
    lines.append("|---|---|" + "---:|" * len(budgets) + "---:|")
    for problem in problems:
        present = [s for s in solvers if (problem, s) in curves]
        medians = {(s, n): quantile([regret_at(c, n) for c in curves[problem, s]], 0.5) for s in present for n in budgets}
        for solver in present:
            cells = []
            for n in budgets:
                median = medians[solver, n]
                p75 = quantile([regret_at(c, n) for c in curves[problem, solver]], 0.75)
                text = format_regret(median)
                if median == min(medians[s, n] for s in present) and len(present) > 1:
                    text = f"**{text}**"
                cells.append(f"{text} ({format_regret(p75)})")
            mean_seconds = sum(seconds[problem, solver]) / len(seconds[problem, solver])
            lines.append(f"| {problem} | {solver} | " + " | ".join(cells) + f" | {mean_seconds:.2f} |")
    return "\n".join(lines) + "\n"


# Fixed colours for the solvers we know, so charts stay comparable; others take the spare ones.
COLOURS = {"trimtab-bayes": "#1f77b4", "trimtab-random": "#ff7f0e", "trimtab-grid": "#7f7f7f",
           "optuna-tpe": "#2ca02c", "optuna-random": "#d62728"}
SPARE_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def svg(problem, description, f_star, solver_curves, budget, seeds):
    """A chart of median regret against evaluations on a log axis, the 25-75% band shaded, one colour
    per solver. Regret 0 is drawn on the bottom edge and infinite regret (nothing feasible yet) on the
    top edge for the band; the median line is left out where it is infinite."""
    subtitle = textwrap.wrap(f"{description}; f* = {f_star:.12g}. Median regret, 25-75% band shaded, "
                             f"over {seeds} seeds.", 105)
    width, left, right, bottom = 800, 80, 190, 60
    top = 34 + 15 * len(subtitle)
    plot_w, plot_h = width - left - right, 360
    height = top + plot_h + bottom

    bands = {}
    for solver, curves in solver_curves.items():
        rows = []
        for n in range(1, budget + 1):
            values = [regret_at(c, n) for c in curves]
            rows.append((quantile(values, 0.25), quantile(values, 0.5), quantile(values, 0.75)))
        bands[solver] = rows
    finite = [v for rows in bands.values() for row in rows for v in row if 0 < v < math.inf]
    if finite:
        y_low = math.floor(math.log10(min(finite)))
        y_high = math.ceil(math.log10(max(finite)))
    else:
        y_low, y_high = -1, 1
    if y_high <= y_low:
        y_high = y_low + 1

    def x_of(n):
        return left + plot_w * (n - 1) / max(1, budget - 1)

    def y_of(v):
        if v <= 0:
            return top + plot_h
        if math.isinf(v):
            return top
        log = min(max(math.log10(v), y_low), y_high)
        return top + plot_h * (y_high - log) / (y_high - y_low)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(problem)}</text>']
    for i, line in enumerate(subtitle):
        out.append(f'<text x="{left}" y="{40 + 15 * i}" fill="#555">{escape(line)}</text>')
    # Grid lines and ticks: one per decade on y, ten-ish on x.
    for e in range(y_low, y_high + 1):
        y = y_of(10.0 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
    step = max(1, round(budget / 10 / 5) * 5) if budget >= 20 else max(1, budget // 5)
    for n in [1] + list(range(step, budget + 1, step)):
        x = x_of(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 18}" text-anchor="middle">evaluations</text>')
    out.append(f'<text transform="translate(20 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
               'simple regret f(best) - f* (log)</text>')

    spare = iter(SPARE_COLOURS * 10)
    colours = {s: COLOURS.get(s) or next(spare) for s in bands}
    for solver, rows in bands.items():
        colour = colours[solver]
        upper = [f"{x_of(n):.1f},{y_of(row[2]):.1f}" for n, row in enumerate(rows, 1)]
        lower = [f"{x_of(n):.1f},{y_of(row[0]):.1f}" for n, row in reversed(list(enumerate(rows, 1)))]
        out.append(f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.15" stroke="none"/>')
        # The median as polyline segments, broken where it is infinite.
        segment = []
        for n, row in enumerate(rows, 1):
            if math.isinf(row[1]):
                if len(segment) > 1:
                    out.append(_polyline(segment, colour))
                segment = []
            else:
                segment.append(f"{x_of(n):.1f},{y_of(row[1]):.1f}")
        if len(segment) > 1:
            out.append(_polyline(segment, colour))
    # The legend, right of the plot.
    for i, solver in enumerate(bands):
        y = top + 10 + 22 * i
        x = left + plot_w + 16
        out.append(f'<rect x="{x}" y="{y - 6}" width="24" height="12" fill="{colours[solver]}" fill-opacity="0.15"/>')
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colours[solver]}" stroke-width="2.5"/>')
        out.append(f'<text x="{x + 32}" y="{y + 4}">{escape(solver)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _polyline(points, colour):
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.2"/>'
