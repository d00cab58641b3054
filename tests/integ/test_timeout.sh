#!/usr/bin/env bash
# A task over its timeout is killed and fails the run; a sibling within its
# timeout succeeds.
. "$(dirname "$0")/lib.sh"

def=$T/timeout.json
jq -n --arg s "30.$TOKEN" '{
  name: "slow",
  tasks: {
    slow: {command: ["sleep", $s], timeout: 1},
    quick: {command: ["echo", "in time"], timeout: 30}
  },
  steps: [{id: "slow", task: "slow"}, {id: "quick", task: "quick"}]
}' >"$def"

start_runfs in_process
id=$(submit "$def")
# Bounded: the task sleeps 30 s; a timeout of 1 s ends it long before.
WAIT_TIMEOUT=20 wait_state "$id" FAILED
R=$MNT/runs/$id

T_=$R/tasks/slow
assert_eq FAILED "$(rd "$T_/status")" "slow/status"
msg=$(rd "$T_/message")
[[ $msg == *"timed out"* || $msg == *timeout* ]] || fail "slow/message does not mention the timeout: $(_q "$msg")"
assert_match '^[0-9]+$' "$(rd "$T_/exit_code")" "slow/exit_code"
(($(rd "$T_/exit_code") > 128)) || fail "slow/exit_code $(rd "$T_/exit_code") is not 128+signal"
rmsg=$(rd "$R/message")
assert_contains "$rmsg" "slow" "run message names the task"
[[ $rmsg == *"timed out"* || $rmsg == *timeout* ]] || fail "run message does not mention the timeout: $(_q "$rmsg")"
gone "30.$TOKEN" || fail "the timed-out sleep is still running"

assert_eq SUCCEEDED "$(rd "$R/tasks/quick/status")" "quick/status"
assert_eq "in time" "$(rd "$R/tasks/quick/stdout")" "quick/stdout"
