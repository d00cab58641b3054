#!/usr/bin/env bash
# A failing task: the run ends FAILED with a message, the task's exit code
# and stderr are kept, results fail with ENODATA and the dependant never ran.
. "$(dirname "$0")/lib.sh"

def=$T/fail.json
cat >"$def" <<'EOF'
{
  "name": "fail3",
  "tasks": {
    "boom": {"command": ["sh", "-c", "echo partial output; echo 'boom: disk on fire' >&2; exit 3"]},
    "after": {"command": ["cat"], "stdin": "{input}"}
  },
  "steps": [
    {"id": "broken", "task": "boom"},
    {"id": "never", "task": "after", "args": {"input": {"from": "broken"}}}
  ],
  "results": [{"from": "never"}]
}
EOF

start_runfs in_process
id=$(submit "$def")
wait_state "$id" FAILED
R=$MNT/runs/$id

assert_eq FAILED "$(rd "$R/status")" status
msg=$(rd "$R/message")
assert_contains "$msg" "broken" "message names the task"
assert_contains "$msg" "3" "message gives the exit status"
assert_eq 1 "$(rd "$R/message" | wc -l)" "message is one line"
assert_eq "1/2 FAILED" "$(rd "$R/progress")" progress

T_=$R/tasks/broken
assert_eq FAILED "$(rd "$T_/status")" "broken/status"
assert_eq 3 "$(rd "$T_/exit_code")" "broken/exit_code"
assert_eq 1 "$(rd "$T_/attempts")" "broken/attempts"
assert_contains "$(rd "$T_/message")" "3" "broken/message"
cmp -s <(rd "$T_/stderr") <(printf 'boom: disk on fire\n') || fail "broken/stderr is $(_q "$(rd "$T_/stderr")")"
cmp -s <(rd "$T_/stdout") <(printf 'partial output\n') || fail "broken/stdout is $(_q "$(rd "$T_/stdout")")"
assert_match "$ISO8601" "$(rd "$T_/ended")" "broken/ended"
# No output of a task run that did not succeed.
read_error "$T_/outputs/stdout" >/dev/null
artifacts=$(timeout "$TO" ls "$R/artifacts")
assert_not_contains "$artifacts" "broken" "ls artifacts"

T_=$R/tasks/never
assert_eq WAITING "$(rd "$T_/status")" "never/status"
assert_eq 0 "$(rd "$T_/attempts")" "never/attempts"
assert_eq "" "$(rd "$T_/started")" "never/started"
assert_eq "" "$(rd "$T_/exit_code")" "never/exit_code"
# Its parent failed and the run has ended: the input will never come.
assert_contains "$(read_error "$T_/inputs/input")" "No data available" "never/inputs/input"
assert_eq 400 "$(timeout "$TO" stat -c %a "$T_/inputs/input")" "never/inputs/input's mode"

assert_contains "$(read_error "$R/results/0")" "No data available" "reading results/0"

sj=$(rd "$R/status.json")
assert_eq FAILED "$(jq -r .state <<<"$sj")" "status.json .state"
assert_eq "$msg" "$(jq -r .message <<<"$sj")" "status.json .message"
assert_eq 1 "$(jq -r .tasks.FAILED <<<"$sj")" "status.json .tasks.FAILED"
assert_eq 1 "$(jq -r .tasks.WAITING <<<"$sj")" "status.json .tasks.WAITING"
assert_match "$ISO8601" "$(jq -r .ended <<<"$sj")" "status.json .ended"

assert_contains "$(rd "$R/logs")" "broken | boom: disk on fire" "logs"
assert_contains "$(rd "$R/logs")" "broken | partial output" "logs"
assert_contains "$(rd "$R/ctl")" "retry" "ctl lists retry for a failed run"
check_sizes "$R"
