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
