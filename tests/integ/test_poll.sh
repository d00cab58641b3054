#!/usr/bin/env bash
# poll() on status and events wakes on a change (sysfs style: after the
# wake-up, seek to 0 and read again), and tail -f follows logs as tasks
# print, also when a task's log stops sharing stdout's file.
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

# script_run TASK GATE SCRIPT: submits a run of one task TASK running sh
# SCRIPT with the gate file's path as $0 (and this test's token after it,
# for the clean-up); prints the run id once the task runs.
script_run() {
	local id
	jq -n --arg t "$1" --arg g "$2" --arg sh "$3" --arg tok "$TOKEN" '{
	  name: $t, tasks: {($t): {command: ["sh", "-c", $sh, "{g}", $tok]}},
	  steps: [{id: $t, task: $t, args: {g: $g}}]
	}' >"$T/$1.json"
	id=$(submit "$T/$1.json")
	wait_task_state "$id" "$1" RUNNING
	echo "$id"
}

# tail -f shows lines while the task prints them.
id2=$(script_run tick "$gate.tick" 'i=0; while [ ! -e "$0" ]; do i=$((i+1)); echo tick $i; sleep 0.1; done')
R2=$MNT/runs/$id2
timeout 2 tail -f "$R2/tasks/tick/logs" >"$T/tail.task" 2>&1 || true
timeout 2 tail -f "$R2/logs" >"$T/tail.run" 2>&1 || true
assert_eq RUNNING "$(rd "$R2/status")" "the ticker still runs"
(($(grep -c '^tick ' "$T/tail.task") >= 3)) || fail "tail -f tasks/tick/logs saw: $(_q "$(cat "$T/tail.task")")"
(($(grep -c '^tick | tick ' "$T/tail.run") >= 3)) || fail "tail -f logs saw: $(_q "$(cat "$T/tail.run")")"
touch "$gate.tick"
wait_state "$id2" SUCCEEDED

# tail -f on a task's log goes on across its first stderr line (until
# then the log is stdout's file; then it gets one of its own): every line
# once and in order, and stdout without the stderr line.
id3=$(script_run mix "$gate.mix" 'i=0; while [ ! -e "$0" ]; do i=$((i+1)); echo out $i; sleep 0.05; done
echo err >&2; for j in 1 2 3 4 5; do echo after $j; sleep 0.05; done
while [ ! -e "$0.end" ]; do sleep 0.05; done')
R3=$MNT/runs/$id3
timeout 60 tail -f "$R3/tasks/mix/logs" >"$T/tail.mix" 2>&1 &
tpid=$!
sleep 0.5
touch "$gate.mix"
seen_after() { grep -q '^after 5$' "$T/tail.mix"; }
wait_until 200 seen_after || fail "tail -f tasks/mix/logs saw: $(_q "$(cat "$T/tail.mix")")"
kill "$tpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
touch "$gate.mix.end"
wait_state "$id3" SUCCEEDED
assert_eq "$(rd "$R3/tasks/mix/logs")" "$(cat "$T/tail.mix")" "tail -f across the first stderr line"
assert_match '^out 1$' "$(head -n 1 "$T/tail.mix")" "the log's first line"
assert_eq 1 "$(grep -c '^err$' "$T/tail.mix")" "the stderr line, once"
assert_not_contains "$(rd "$R3/tasks/mix/stdout")" "err" "stdout"
assert_eq "after 5" "$(rd "$R3/tasks/mix/stdout" | tail -n 1)" "stdout's last line"
