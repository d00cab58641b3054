#!/usr/bin/env bash
# runfs watch RUN: plain lines when not on a terminal, a redrawn bar on one,
# the final state last; exit 0 only for SUCCEEDED. Also runs/<id>/progress.
. "$(dirname "$0")/lib.sh"

gate=$T/gate
jq -n --arg g "$gate" --arg tok "$TOKEN" '{
  name: "gated",
  tasks: {hold: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", "{g}", $tok]},
          quick: {command: ["true"]}},
  steps: [{id: "hold", task: "hold", args: {g: $g}}, {id: "quick", task: "quick"}]
}' >"$T/gated.json"

start_runfs in_process
id=$(submit "$T/gated.json")
wait_task_state "$id" quick SUCCEEDED
assert_eq "1/2 RUNNING" "$(rd "$MNT/runs/$id/progress")" "progress while hold runs"

timeout 30 "$RUNFS" watch "$id" >"$T/watch.out" 2>&1 &
wpid=$!
# Open the gate once watch has shown the run as it is now.
for ((i = 0; i < 200; i++)); do
	[[ -s $T/watch.out ]] && break
	sleep 0.05
done
_alive "$wpid" || fail "runfs watch ended before the run: $(cat "$T/watch.out")"
touch "$gate"
rc=0
wait "$wpid" || rc=$?
assert_eq 0 "$rc" "runfs watch's exit on SUCCEEDED"
out=$(cat "$T/watch.out")
assert_contains "$(head -n 1 <<<"$out")" "1/2 RUNNING" "the first line"
assert_contains "$out" "2/2 SUCCEEDED" "a later line"
assert_eq SUCCEEDED "$(tail -n 1 <<<"$out")" "the last line"
assert_not_contains "$out" $'\r' "plain lines when not on a terminal"
assert_eq "2/2 SUCCEEDED" "$(rd "$MNT/runs/$id/progress")" "progress at the end"

# A path under the run works too; on a terminal the line is redrawn.
out=$(timeout 20 script -qec "'$RUNFS' watch '$MNT/runs/$id/tasks'" /dev/null)
assert_contains "$out" $'\r\033[K[' "the redrawn bar on a terminal"
assert_contains "$out" "SUCCEEDED" "the final state on a terminal"

# A failing run: exit 1. An unknown run: exit 2 with a message.
id2=$(submit "$SRCDIR/examples/failing.json")
rc=0
out=$(timeout 30 "$RUNFS" watch "$id2") || rc=$?
assert_eq 1 "$rc" "runfs watch's exit on FAILED"
assert_eq FAILED "$(tail -n 1 <<<"$out")" "the failing run's last line"
rc=0
out=$(timeout 10 "$RUNFS" watch wf.nope.0000000 2>&1) || rc=$?
assert_eq 2 "$rc" "runfs watch's exit for an unknown run"
assert_contains "$out" "no run wf.nope.0000000" "the message"
