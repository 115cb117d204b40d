# Shared by the container tests (run.sh, swarm.sh): one line per check, a
# count of failures, and a field out of a JSON document.
failures=0
pass() { echo "  ok    $*"; }
fail() {
  echo "  FAIL  $*"
  failures=$((failures + 1))
}
expect_eq() { # what, expected, actual
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected $(printf '%q' "$2"), got $(printf '%q' "$3")"; fi
}
# json_get JSON EXPRESSION: python's json.load(...) followed by EXPRESSION, e.g. '["broken"]["fin"]'; empty on error.
json_get() { echo "$1" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$2)" 2>/dev/null; }
# broken_otherwise BENCH_JSON: the connections a --bench --reconnect load saw
# break other than with FIN: "err reset closed timeout".
broken_otherwise() {
  echo "$1" | /usr/bin/python3 -c 'import json,sys; b=json.load(sys.stdin)["broken"]
print(b.get("err",0), b.get("reset",0), b.get("closed",0), b.get("timeout",0))' 2>/dev/null
}
