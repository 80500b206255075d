"""The tally of the k8s tests' Python checkers (tests/k8s/lib.sh keeps the
shell's): one "ok - ..." line per check, stop at the first failure, and the
number passed written to TMP/py_passed for the shell to add (py_tally)."""
import sys

_tmp = None
_passed = 0


def start(tmp):
    global _tmp
    _tmp = tmp


def passed():
    return _passed


def done(code):
    with open(f"{_tmp}/py_passed", "w") as f:
        f.write(str(_passed))
    sys.exit(code)


def check(cond, what):
    global _passed
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        done(1)
    _passed += 1
    print(f"ok - {what}")
