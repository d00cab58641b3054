#!/usr/bin/env bash
# Tasks do not outlive the daemon: after a SIGKILL of the daemon, not only
# the task's leader (PR_SET_PDEATHSIG) but what it started is gone (the
# guard process kills every process that carries the daemon's mark); at the
# next mount the run shows KILLED.
. "$(dirname "$0")/lib.sh"

jq -n --arg a "61.$TOKEN" --arg b "62.$TOKEN" '{
  name: "orphan",
  tasks: {t: {command: ["sh", "-c", "sleep \"$0\" & sleep \"$1\"; echo done", $a, $b]}},
  steps: [{id: "t", task: "t"}]
}' >"$T/orphan.json"

start_runfs in_process
id=$(submit "$T/orphan.json")
wait_task_state "$id" t RUNNING
wait_until 100 eval '(($(pgrep -fc -- "$TOKEN") >= 2))' || true
(($(pgrep -fc -- "$TOKEN") >= 2)) || fail "the task's two sleeps did not start"
crash_runfs
gone "$TOKEN" || fail "task processes outlived the daemon: $(pgrep -fa -- "$TOKEN")"

start_runfs in_process
assert_eq KILLED "$(rd "$MNT/runs/$id/status")" "the run after the next mount"
assert_eq KILLED "$(rd "$MNT/runs/$id/tasks/t/status")" "the task run after the next mount"
