#!/usr/bin/env bash
# Retries: a task that fails twice and succeeds on its third attempt, and
# one that fails every attempt.
. "$(dirname "$0")/lib.sh"

counter=$T/counter
def=$T/flaky.json
cat >"$def" <<'EOF'
{
  "name": "flaky",
  "tasks": {
    "flaky": {
      "command": ["sh", "-c", "n=$(cat \"$1\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >\"$1\"; echo \"attempt $n\"; if [ $n -lt 3 ]; then echo \"not yet $n\" >&2; exit 1; fi", "flaky", "{counter}"],
      "retries": 2
    }
  },
  "steps": [{"id": "f", "task": "flaky", "args": {"counter": "COUNTER"}}],
  "results": [{"from": "f"}]
}
EOF
jq --arg c "$counter" '.steps[0].args.counter = $c' "$def" >"$def.new"
mv "$def.new" "$def"

start_runfs in_process
id=$(submit "$def")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
T_=$R/tasks/f
assert_eq 3 "$(cat "$counter")" "the command ran three times"
assert_eq 3 "$(rd "$T_/attempts")" "f/attempts"
assert_eq SUCCEEDED "$(rd "$T_/status")" "f/status"
assert_eq 0 "$(rd "$T_/exit_code")" "f/exit_code"
# stdout and stderr are the latest attempt's.
assert_eq "attempt 3" "$(rd "$T_/stdout")" "f/stdout"
assert_eq "" "$(rd "$T_/stderr")" "f/stderr"
assert_eq "attempt 3" "$(rd "$R/results/0")" "results/0"
# logs hold every attempt, with a marker before each attempt after the first.
logs=$(rd "$T_/logs")
for n in 1 2 3; do
	assert_contains "$logs" "attempt $n" "f/logs"
done
assert_contains "$logs" "not yet 1" "f/logs"
assert_contains "$logs" "not yet 2" "f/logs"
assert_contains "$logs" "runfs: attempt 2" "f/logs"
assert_contains "$logs" "runfs: attempt 3" "f/logs"
assert_not_contains "$logs" "runfs: attempt 1" "f/logs"
[[ $(grep -n 'not yet 1' <<<"$logs" | cut -d: -f1) -lt $(grep -n 'runfs: attempt 2' <<<"$logs" | cut -d: -f1) ]] ||
	fail "f/logs: attempt 1's lines do not come before the attempt 2 marker"
assert_contains "$(rd "$R/logs")" "f | not yet 2" "run logs"

# Retries exhausted: two attempts, both fail.
def2=$T/always.json
cat >"$def2" <<'EOF'
{
  "name": "always",
  "tasks": {"no": {"command": ["sh", "-c", "echo nope >&2; exit 7"], "retries": 1}},
  "steps": [{"id": "no", "task": "no"}]
}
EOF
id2=$(submit "$def2")
wait_state "$id2" FAILED
T_=$MNT/runs/$id2/tasks/no
assert_eq 2 "$(rd "$T_/attempts")" "no/attempts"
assert_eq 7 "$(rd "$T_/exit_code")" "no/exit_code"
assert_eq FAILED "$(rd "$T_/status")" "no/status"
assert_eq 2 "$(rd "$T_/logs" | grep -c '^nope$')" "no/logs: one 'nope' per attempt"
assert_contains "$(rd "$MNT/runs/$id2/message")" "7" "message"
