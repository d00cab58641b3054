#!/usr/bin/env bash
# Runs are recorded: a finished run reads the same after an unmount and a
# remount on the same data_dir; a run cut off by the daemon's end shows
# KILLED at the next mount, whether the daemon ended on an unmount or died
# (SIGKILL).
. "$(dirname "$0")/lib.sh"

long_def() { # long_def NAME SLEEPARG
	jq -n --arg name "$1" --arg s "$2" '{
	  name: $name,
	  tasks: {long: {command: ["sleep", $s]}},
	  steps: [{id: "long", task: "long"}],
	  results: [{from: "long"}]
	}' >"$T/$1.json"
	echo "$T/$1.json"
}

start_runfs in_process
done_id=$(submit "$SRCDIR/examples/hello.json")
wait_state "$done_id" SUCCEEDED
D=$MNT/runs/$done_id
snap() { # snap DIR: the content of the files a finished run shows
	local f
	for f in status status.json progress message config definition.json logs results/0 results/1 \
		tasks/greet/status tasks/greet/stdout tasks/greet/started tasks/greet/ended \
		tasks/size/inputs/file tasks/shout/logs artifacts/greet/stdout; do
		printf '== %s\n' "$f"
		rd "$1/$f"
		echo
	done
	timeout "$TO" ls "$1" "$1/tasks"
}
before=$(snap "$D")

# A run cut off by the unmount.
u1=300.${TOKEN}1
cut_id=$(submit "$(long_def cut "$u1")")
wait_task_state "$cut_id" long RUNNING
wait_proc "$u1"
stop_runfs
gone "$u1" || fail "the unmount left the task's sleep ($u1) running"

# Readable with the mount down.
[[ -f $DATA/runfs.db ]] || fail "no $DATA/runfs.db"
cmp -s "$DATA/runs/$done_id/definition.json" "$SRCDIR/examples/hello.json" ||
	fail "$DATA/runs/$done_id/definition.json differs from the definition"
grep -q "Hello, world!" "$DATA/runs/$done_id/logs" || fail "$DATA/runs/$done_id/logs lacks greet's line"

start_runfs in_process
runs=$(timeout "$TO" ls "$MNT/runs")
grep -qx -- "$done_id" <<<"$runs" || fail "runs/ lost $done_id after the remount: $runs"
grep -qx -- "$cut_id" <<<"$runs" || fail "runs/ lost $cut_id after the remount: $runs"
after=$(snap "$D")
[[ $before == "$after" ]] || fail "the finished run reads differently after the remount:
$(diff <(echo "$before") <(echo "$after") || true)"
check_sizes "$D"

C=$MNT/runs/$cut_id
assert_eq KILLED "$(rd "$C/status")" "status of the run cut off by the unmount"
assert_eq KILLED "$(rd "$C/tasks/long/status")" "task status of the run cut off by the unmount"
[[ -n $(rd "$C/message") ]] || fail "the KILLED run has no message"
assert_match "$ISO8601" "$(json "$C/status.json" .ended)" "status.json .ended of the KILLED run"
assert_contains "$(read_error "$C/results/0")" "No data available" "results/0 of the KILLED run"
assert_contains "$(rd "$C/ctl")" "retry" "ctl verbs of the KILLED run"

# A run cut off by the daemon's death.
u2=300.${TOKEN}2
dead_id=$(submit "$(long_def dead "$u2")")
wait_task_state "$dead_id" long RUNNING
wait_proc "$u2"
crash_runfs
# Nothing could end the task; the test does, as a supervisor would.
for p in $(pgrep -f -- "$u2" || true); do
	kill -KILL "$p" 2>/dev/null || true
done
gone "$u2" || fail "could not end the orphaned sleep ($u2)"

start_runfs in_process
X=$MNT/runs/$dead_id
WAIT_TIMEOUT=10 wait_state "$dead_id" KILLED
assert_eq KILLED "$(rd "$X/tasks/long/status")" "task status of the run cut off by SIGKILL"
[[ -n $(rd "$X/message") ]] || fail "the run cut off by SIGKILL has no message"
assert_eq 3 "$(count_entries "$MNT/runs")" "entries in runs/"
after=$(snap "$D")
[[ $before == "$after" ]] || fail "the finished run reads differently after the second remount"
