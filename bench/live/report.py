"""The live benchmark's table and chart (an SVG drawn by hand: nothing outside the standard library)."""

import math
import textwrap
from xml.sax.saxutils import escape


def quantile(values, q):
    """The q-quantile with linear interpolation between order statistics (numpy's default); an
    interpolation touching an infinite value (a run that never got there) is infinite."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    a, b = ordered[low], ordered[high]
    if low == high or math.isinf(b):
        return b if math.isinf(b) else a
    return a + (b - a) * (position - low)


def format_windows(n, budget):
    if n is None or math.isinf(n):
        return f">{budget}"
    return f"{n:g}"


def format_ms(x):
    if x is None or math.isinf(x):
        return "-"
    return f"{x:.3g}"


def format_seconds(x):
    return "-" if x is None or math.isinf(x) else f"{x:.0f}"


def format_errors(errors, runs):
    """Median and largest absolute claim error; the count when some runs claimed nothing numeric."""
    if not errors:
        return "-"
    text = f"{quantile(errors, 0.5):.1f}, {max(errors):.1f}"
    return text if len(errors) == runs else f"{text} ({len(errors)} of {runs} runs)"


def table(summaries, budget, best_value, threshold):
    """Markdown, one row per solver."""
    lines = [
        f"Windows until a configuration within {threshold:.0%} of the sweep's best ({best_value:.3g} ms) "
        f"was measured (evaluated) and kept (incumbent); window 0 is the baseline, `>{budget}`: not within "
        f"the budget of {budget} candidate windows. Median, then every run in seed order. Values are the "
        "sweep's, not the runs' own noisy measurements. The incumbent's cost is also given as every window "
        "measured by then (extensions of a close call included) and as seconds of traffic since the agent "
        "started. Claim error: the improvement over the baseline the run claimed at its end against the "
        "sweep's improvement of its final incumbent, in percentage points.",
        "",
        "| solver | runs | evaluated: median | per run | incumbent: median | per run | reached (eval / inc) "
        "| incumbent: windows measured, median | incumbent: s of traffic, median "
        "| best evaluated, ms (median) | final incumbent, ms (median) | claim error, points (median, max) | s/run |",
        "|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s['solver']} | {s['runs']} | {format_windows(s['median_evaluated'], budget)} | "
            f"{', '.join(format_windows(n, budget) for n in s['evaluated'])} | "
            f"{format_windows(s['median_incumbent'], budget)} | "
            f"{', '.join(format_windows(n, budget) for n in s['incumbent'])} | "
            f"{s['reached_evaluated']}/{s['runs']} / {s['reached_incumbent']}/{s['runs']} | "
            f"{format_windows(s['median_incumbent_measured'], budget)} | {format_seconds(s['median_incumbent_seconds'])} | "
            f"{format_ms(s['median_best_value'])} | {format_ms(s['median_final_value'])} | "
            f"{format_errors(s['claim_errors'], s['runs'])} | {s['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


COLOURS = {"bayes": "#1f77b4", "random": "#ff7f0e", "grid": "#7f7f7f"}
SPARE_COLOURS = ("#2ca02c", "#d62728", "#9467bd")


def svg(curves, budget, best_value, threshold, note):
    """Two panels against the window index: the best sweep ratio (best / value, 0 while nothing
    feasible) among the windows so far, and the incumbent's. Per solver the median over runs as a
    step line, the 25-75 % band shaded, and the threshold as a dashed line."""
    width, left, right = 820, 70, 130
    subtitle = textwrap.wrap(note, 110)
    top = 52 + 15 * len(subtitle)
    plot_w, plot_h, gap, bottom = width - left - right, 250, 50, 50
    height = top + 2 * plot_h + gap + bottom

    stats = {}
    for solver, runs in curves.items():
        stats[solver] = {kind: [[quantile([run[kind][n] for run in runs], q) for q in (0.25, 0.5, 0.75)]
                                for n in range(budget + 1)] for kind in ("evaluated", "incumbent")}
    lowest = min([row[0] for st in stats.values() for rows in st.values() for row in rows] + [threshold])
    y_low = max(0.0, math.floor(lowest * 10) / 10)
    spare = iter(SPARE_COLOURS * 10)
    colours = {s: COLOURS.get(s) or next(spare) for s in stats}

    def x_of(n):
        return left + plot_w * n / max(1, budget)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">Live demo service: windows to '
           f'{threshold:.0%} of the best ({best_value:.3g} ms)</text>']
    for i, line in enumerate(subtitle):
        out.append(f'<text x="{left}" y="{40 + 15 * i}" fill="#555">{escape(line)}</text>')
    panels = (("evaluated", "best configuration measured so far"), ("incumbent", "incumbent (what the agent keeps)"))
    for p, (kind, title) in enumerate(panels):
        p_top = top + p * (plot_h + gap)

        def y_of(v, p_top=p_top):
            v = min(max(v, y_low), 1.0)
            return p_top + plot_h * (1.0 - v) / (1.0 - y_low)

        for k in range(int(round((1.0 - y_low) / 0.1)) + 1):
            v = y_low + k * 0.1
            y = y_of(v)
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        step = 2 if budget <= 30 else 5
        for n in range(0, budget + 1, step):
            x = x_of(n)
            out.append(f'<line x1="{x:.1f}" y1="{p_top}" x2="{x:.1f}" y2="{p_top + plot_h}" stroke="#f0f0f0"/>')
            out.append(f'<text x="{x:.1f}" y="{p_top + plot_h + 15}" text-anchor="middle">{n}</text>')
        y = y_of(threshold)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#d62728" '
                   'stroke-dasharray="6 4"/>')
        out.append(f'<text x="{left + plot_w + 4}" y="{y + 4:.1f}" fill="#d62728">{threshold:.0%}</text>')
        out.append(f'<rect x="{left}" y="{p_top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
        out.append(f'<text x="{left}" y="{p_top - 7}" font-weight="bold">{escape(title)}</text>')
        out.append(f'<text transform="translate(18 {p_top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
                   'sweep best / value</text>')
        for solver, st in stats.items():
            rows = st[kind]
            upper = _step_points([r[2] for r in rows], x_of, y_of)
            lower = list(reversed(_step_points([r[0] for r in rows], x_of, y_of)))
            out.append(f'<polygon points="{" ".join(upper + lower)}" fill="{colours[solver]}" fill-opacity="0.12" '
                       'stroke="none"/>')
        for solver, st in stats.items():
            points = _step_points([r[1] for r in st[kind]], x_of, y_of)
            out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colours[solver]}" '
                       'stroke-width="2.2" stroke-opacity="0.9"/>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 14}" text-anchor="middle">'
               'window (0 = baseline, n = n-th candidate)</text>')
    for i, solver in enumerate(stats):
        y = top + 10 + 22 * i
        x = left + plot_w + 40
        out.append(f'<rect x="{x}" y="{y - 6}" width="24" height="12" fill="{colours[solver]}" fill-opacity="0.12"/>')
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colours[solver]}" stroke-width="2.5"/>')
        out.append(f'<text x="{x + 30}" y="{y + 4}">{escape(solver)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _step_points(values, x_of, y_of):
    """A step line's points: a window's value holds until the next window."""
    points = []
    for n, v in enumerate(values):
        if n > 0:
            points.append(f"{x_of(n):.1f},{y_of(values[n - 1]):.1f}")
        points.append(f"{x_of(n):.1f},{y_of(v):.1f}")
    return points
