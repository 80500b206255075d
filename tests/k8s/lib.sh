# Shared by the k8s test scripts (sourced after `cd "$root"`): the tools they
# use, overridable from the environment, and the ok/fail tally; stops at the
# first failure.
KUBECTL="${KUBECTL:-kubectl}"
PROMTOOL="${PROMTOOL:-promtool}"
PYTHON="${PYTHON:-/usr/bin/python3}"

passed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
  echo "FAIL: $*" >&2
  echo "${passed} passed, 1 failed"
  exit 1
}

for tool in "$KUBECTL" "$PROMTOOL" "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || fail "required tool not found: $tool"
done

# After a Python checker (tests/k8s/checks.py) exited with status $1: adds
# the checks it passed to the tally; stops if it failed.
py_tally() {
  local py_passed
  py_passed="$(cat "$tmp/py_passed" 2>/dev/null || echo 0)"
  passed=$((passed + py_passed))
  if [[ $1 -ne 0 ]]; then
    echo "${passed} passed, 1 failed"
    exit 1
  fi
}
