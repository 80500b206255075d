"""The vector selectors of a PromQL expression, for the checks of the Grafana
dashboards and the alert rules (tests/k8s/render_test.sh and
tests/e2e/prometheus_check.py). Grafana's variables ($namespace, ${site},
$__rate_interval) may appear where PromQL allows a string or a duration.

Not a PromQL parser: a scanner that knows where metric names can stand.
String literals, ranges ([5m], [$__rate_interval]), label lists of
by/without/on/ignoring/group_left/group_right, numbers and function names are
skipped; what is left is `name`, `name{matchers}` or `{matchers}`.
"""
import re

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "atan2"}
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_IDENT = re.compile(r"[A-Za-z_:][\w:]*")
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_VAR = re.compile(r"\$\{?\w+(:\w+)?\}?")
_MATCHER = re.compile(r'\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


class Selector:
    """One vector selector: text[start:end] is `name{...}`; matchers are
    (label, op, value) with values as written (Grafana variables unexpanded)."""

    def __init__(self, expr, start, end, name, brace):
        self.expr, self.start, self.end, self.name = expr, start, end, name
        self.brace = brace  # index of "{" in expr, or None
        self.matchers = []
        if brace is not None:
            body = expr[brace + 1:end - 1]
            pos = 0
            while pos < len(body) and body[pos:].strip():
                m = _MATCHER.match(body, pos)
                if not m:
                    raise ValueError(f"cannot read the matchers of {expr[start:end]!r}")
                self.matchers.append((m.group(1), m.group(2), m.group(3)))
                pos = m.end()

    @property
    def text(self):
        return self.expr[self.start:self.end]

    def labels(self, label):
        return [(op, v) for l, op, v in self.matchers if l == label]

    def __repr__(self):
        return self.text


def _skip_string(expr, i):
    q = expr[i]
    i += 1
    while i < len(expr) and expr[i] != q:
        i += 2 if expr[i] == "\\" and q != "`" else 1
    return i + 1


def _skip_to(expr, i, close):
    """Index after the `close` that ends the group opened at expr[i]."""
    i += 1
    while i < len(expr) and expr[i] != close:
        i = _skip_string(expr, i) if expr[i] in "\"'`" else i + 1
    return i + 1


def selectors(expr):
    """The vector selectors of expr, in order."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
        elif c == "[":
            i = _skip_to(expr, i, "]")
        elif c == "$":
            m = _VAR.match(expr, i)
            i = m.end() if m else i + 1
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            i = _NUMBER.match(expr, i).end()
        elif c == "{":
            end = _skip_to(expr, i, "}")
            out.append(Selector(expr, i, end, None, i))
            i = end
        elif _IDENT.match(c):
            m = _IDENT.match(expr, i)
            name, j = m.group(0), m.end()
            k = j
            while k < n and expr[k].isspace():
                k += 1
            low = name.lower()
            if low in _LABEL_LISTS and k < n and expr[k] == "(":
                i = _skip_to(expr, k, ")")
            elif k < n and expr[k] == "(":  # a function call
                i = j
            elif re.match(r"(by|without)\s*\(", expr[k:]):  # sum by (...) (...)
                i = j
            elif low in KEYWORDS:
                i = j
                if low == "offset":  # its duration
                    while i < n and (expr[i].isspace() or expr[i].isalnum() or expr[i] == "-"):
                        i += 1
            elif k < n and expr[k] == "{":
                end = _skip_to(expr, k, "}")
                out.append(Selector(expr, i, end, name, k))
                i = end
            else:
                out.append(Selector(expr, i, j, name, None))
                i = j
        else:
            i += 1
    return out


# Range-vector functions whose window Grafana should size from the scrape
# interval ($__rate_interval) rather than a fixed short window.
RATE_FUNCTIONS = ("rate", "irate", "increase", "delta", "idelta", "deriv")


def rate_windows(expr):
    """(function, window) for each range of a RATE_FUNCTIONS call in expr."""
    found = []
    for m in re.finditer(r"\b(%s)\s*\(" % "|".join(RATE_FUNCTIONS), expr):
        # The window is the first [...] inside the call's parentheses.
        depth, i = 0, m.end() - 1
        while i < len(expr):
            ch = expr[i]
            if ch in "\"'`":
                i = _skip_string(expr, i)
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            elif ch == "[" and depth == 1:
                end = _skip_to(expr, i, "]")
                found.append((m.group(1), expr[i + 1:end - 1].strip()))
                break
            i += 1
    return found


def duration_seconds(text):
    """Seconds of a PromQL duration such as 1h30m, or None."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * unit[u] for n, u in parts)
