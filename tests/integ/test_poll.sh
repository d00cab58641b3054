#!/usr/bin/env bash
# poll() on status and events wakes on a change (sysfs style: after the
# wake-up, seek to 0 and read again), and tail -f follows logs as tasks
# print.
. "$(dirname "$0")/lib.sh"

gate=$T/gate
def=$T/gated.json
gated_def "$def" "$gate"

start_runfs in_process
id=$(submit "$def")
R=$MNT/runs/$id
wait_task_state "$id" hold RUNNING
wait_state "$id" RUNNING

# Nothing changes: poll times out (exit 1) after printing the state.
rc=0
out=$(timeout 10 "$POLLWAIT" "$R/status" 300) || rc=$?
assert_eq 1 "$rc" "pollwait on an unchanging status"
assert_eq RUNNING "$out" "pollwait's read"

# A change wakes it (exit 0); the read after the wake-up is fresh.
timeout 20 "$POLLWAIT" "$R/status" 15000 >"$T/p.status" &
ppid=$!
timeout 20 "$POLLWAIT" "$R/events" 15000 >"$T/p.events" &
epid=$!
sleep 0.5
_alive "$ppid" || fail "pollwait on status returned before any change"
touch "$gate"
rc=0
wait "$ppid" || rc=$?
assert_eq 0 "$rc" "pollwait on status woke"
assert_eq RUNNING "$(head -n 1 "$T/p.status")" "status before the change"
rc=0
wait "$epid" || rc=$?
assert_eq 0 "$rc" "pollwait on events woke"
wait_state "$id" SUCCEEDED
# Woken after the change, status now shows it.
rc=0
out=$(timeout 10 "$POLLWAIT" "$R/status" 100) || rc=$?
assert_eq SUCCEEDED "$(head -n 1 <<<"$out")" "status after the run ended"

# tail -f shows lines while the task prints them.
jq -n --arg g "$gate.tick" --arg tok "$TOKEN" '{
  name: "ticker",
  tasks: {tick: {command: ["sh", "-c", "i=0; while [ ! -e \"$0\" ]; do i=$((i+1)); echo tick $i; sleep 0.1; done", "{g}", $tok]}},
  steps: [{id: "tick", task: "tick", args: {g: $g}}]
}' >"$T/ticker.json"
id2=$(submit "$T/ticker.json")
R2=$MNT/runs/$id2
wait_task_state "$id2" tick RUNNING
timeout 2 tail -f "$R2/tasks/tick/logs" >"$T/tail.task" 2>&1 || true
timeout 2 tail -f "$R2/logs" >"$T/tail.run" 2>&1 || true
assert_eq RUNNING "$(rd "$R2/status")" "the ticker still runs"
(($(grep -c '^tick ' "$T/tail.task") >= 3)) || fail "tail -f tasks/tick/logs saw: $(_q "$(cat "$T/tail.task")")"
(($(grep -c '^tick | tick ' "$T/tail.run") >= 3)) || fail "tail -f logs saw: $(_q "$(cat "$T/tail.run")")"
touch "$gate.tick"
wait_state "$id2" SUCCEEDED
