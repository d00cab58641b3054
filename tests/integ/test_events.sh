#!/usr/bin/env bash
# runs/<id>/events: the history first, then each change as it happens, and
# end-of-file when the run ends; grep -m1 returns at the first failure.
. "$(dirname "$0")/lib.sh"

gate=$T/gate
def=$T/two.json
jq -n --arg g "$gate" --arg tok "$TOKEN" '{
  name: "two",
  tasks: {
    hold: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", "{g}", $tok]},
    after: {command: ["cat"], stdin: "{x}"}
  },
  steps: [{id: "hold", task: "hold", args: {g: $g}},
          {id: "after", task: "after", args: {x: {from: "hold"}}}]
}' >"$def"

start_runfs in_process
id=$(submit "$def")
R=$MNT/runs/$id
wait_task_state "$id" hold RUNNING

timeout 30 cat "$R/events" >"$T/ev" &
cpid=$!
sleep 0.5
_alive "$cpid" || fail "cat events ended while the run was running"
lines=$(cat "$T/ev")
assert_contains "$lines" " - WAITING" "history: the run was waiting"
assert_contains "$lines" " hold RUNNING" "history: hold started"
touch "$gate"
wait "$cpid" || fail "cat events exited with status $?"
lines=$(cat "$T/ev")
assert_contains "$lines" " hold SUCCEEDED" "a later line: hold succeeded"
assert_contains "$lines" " after SUCCEEDED" "a later line: after succeeded"
assert_eq "- SUCCEEDED" "$(tail -n 1 "$T/ev" | cut -d' ' -f2-)" "the last line"
while read -r when task state; do
	assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$when" "event time"
	assert_match '^(-|hold|after)$' "$task" "event task"
	assert_match '^(WAITING|RUNNING|SUCCEEDED)$' "$state" "event state"
done <"$T/ev"
# A completed run's events read to the end at once, identical.
assert_eq "$(cat "$T/ev")" "$(timeout 2 cat "$R/events")" "events of the completed run"

# grep -m1 FAILED returns as soon as a task fails, while another still runs.
jq -n --arg g "$gate.2" --arg tok "$TOKEN" '{
  name: "failfast",
  tasks: {
    bad: {command: ["sh", "-c", "sleep 0.5; exit 3"]},
    hold: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", "{g}", $tok]}
  },
  steps: [{id: "bad", task: "bad"}, {id: "hold", task: "hold", args: {g: $g}}]
}' >"$T/failfast.json"
id2=$(submit "$T/failfast.json")
line=$(timeout 20 grep -m1 FAILED "$MNT/runs/$id2/events") || fail "grep -m1 FAILED did not return"
assert_contains "$line" " bad FAILED" "the first FAILED line"
assert_eq RUNNING "$(rd "$MNT/runs/$id2/tasks/hold/status")" "hold still runs when grep returns"
touch "$gate.2"
wait_state "$id2" FAILED
