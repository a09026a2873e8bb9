"""The benchmark's grid, read from the `params:` section of bench.yaml, and the helpers that name a
point the same way whether it comes from the grid, the sweep's CSV or a trimtab journal.

The standard library has no YAML parser, so this reads only the form bench.yaml uses: one param per
line, a flow map of an ordinal (`name: {type: ordinal, choices: [a, b, c], default: d}`). Anything
else under `params:` is an error naming the line, rather than a silently different grid."""

import itertools
import re

PARAM_LINE = re.compile(r"^\s+([A-Za-z_][A-Za-z0-9_]*):\s*\{(.*)\}\s*(#.*)?$")
FIELD = re.compile(r"\s*([a-z_]+)\s*:\s*(\[[^\]]*\]|[^,]+)\s*(?:,|$)")


class Space:
    """Ordinal params in the config's order: names, choices (floats) and defaults."""

    def __init__(self, names, choices, defaults):
        self.names = names
        self.choices = choices
        self.defaults = defaults

    def grid(self):
        """Every point, the first param varying slowest (so consecutive points are neighbours)."""
        return [dict(zip(self.names, values)) for values in itertools.product(*(self.choices[n] for n in self.names))]

    def size(self):
        size = 1
        for name in self.names:
            size *= len(self.choices[name])
        return size

    def key(self, point):
        """A hashable name for a point: its values as floats in the params' order."""
        return tuple(float(point[name]) for name in self.names)

    def default_point(self):
        return dict(self.defaults)

    def describe(self, point):
        return " ".join(f"{name}={format_number(point[name])}" for name in self.names)


def format_number(x):
    x = float(x)
    return str(int(x)) if x == int(x) else f"{x:g}"


def read_space(path):
    names, choices, defaults = [], {}, {}
    in_params = False
    with open(path) as f:
        for number, line in enumerate(f, 1):
            stripped = line.split("#", 1)[0].rstrip()
            if not stripped:
                continue
            if not line[0].isspace():
                in_params = stripped == "params:"
                continue
            if not in_params:
                continue
            match = PARAM_LINE.match(line)
            if not match:
                raise ValueError(f"{path}:{number}: expected `name: {{type: ordinal, choices: [...], default: x}}`")
            name, body = match.group(1), match.group(2)
            fields = {m.group(1): m.group(2).strip() for m in FIELD.finditer(body)}
            if fields.get("type") != "ordinal" or "choices" not in fields:
                raise ValueError(f"{path}:{number}: param '{name}' must be an ordinal with choices "
                                 "(the sweep measures every grid point)")
            values = [float(v) for v in fields["choices"].strip("[]").split(",") if v.strip()]
            if "default" not in fields or float(fields["default"]) not in values:
                raise ValueError(f"{path}:{number}: param '{name}' needs a default among its choices")
            names.append(name)
            choices[name] = values
            defaults[name] = float(fields["default"])
    if not names:
        raise ValueError(f"{path}: no params found under `params:`")
    return Space(names, choices, defaults)
