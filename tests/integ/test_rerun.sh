#!/usr/bin/env bash
# Rerunning chosen task runs of an ended run, on the in-process and the
# local runtime: a middle task run and everything downstream of it run
# again (counted by the processes started), the rest is left as it was;
# attempts number on and the earlier attempt's output stays readable;
# the verbs each ctl shows; retry keeps its meaning.
. "$(dirname "$0")/lib.sh"

# a -> b -> c, and side on its own. Each start appends its name to a log.
chain_def "$T/chain.json" "$T/started"

for runtime in in_process local; do
	: >"$T/started"
	start_runfs "$runtime"
	id=$(submit "$T/chain.json")
	wait_state "$id" SUCCEEDED
	R=$MNT/runs/$id
	assert_eq 4 "$(wc -l <"$T/started")" "$runtime: task runs started by the run"
	assert_eq $'state SUCCEEDED\nverbs rerun' "$(rd "$R/ctl")" "$runtime: a SUCCEEDED run's ctl"
	assert_eq $'state SUCCEEDED\nverbs rerun' "$(rd "$R/tasks/b/ctl")" "$runtime: a task run's ctl"
	assert_contains "$(write_error "$R/ctl" retry)" "Device or resource busy" "$runtime: retry of a SUCCEEDED run"
	before_a=$(rd "$R/tasks/a/ended")
	before_side=$(rd "$R/tasks/side/ended")

	: >"$T/started"
	wr "$R/tasks/b/ctl" rerun || fail "$runtime: rerun of b"
	wait_state "$id" SUCCEEDED
	assert_eq $'b\nc' "$(sort "$T/started")" "$runtime: task runs started by the rerun of b"
	assert_eq "2 2 1 1" "$(rd "$R/tasks/b/attempts") $(rd "$R/tasks/c/attempts") $(rd "$R/tasks/a/attempts") $(rd "$R/tasks/side/attempts")" \
		"$runtime: attempts of b, c, a, side"
	assert_eq "$before_a" "$(rd "$R/tasks/a/ended")" "$runtime: a is untouched"
	assert_eq "$before_side" "$(rd "$R/tasks/side/ended")" "$runtime: side is untouched"
	assert_eq $'b-a-x\nrunfs: attempt 2\nb-a-x' "$(rd "$R/tasks/b/logs")" "$runtime: b's log keeps both attempts"
	assert_eq "c-b-a-x" "$(rd "$R/results/0")" "$runtime: the result after the rerun"
	[[ -s $DATA/runs/$id/logs.d/b.1.stdout && -s $DATA/runs/$id/logs.d/b.2.stdout ]] ||
		fail "$runtime: the first attempt's stdout is gone: $(ls "$DATA/runs/$id/logs.d")"

	# Two at once through the run's ctl; a step id names its task runs.
	: >"$T/started"
	wr "$R/ctl" "rerun a side" || fail "$runtime: rerun a side"
	wait_state "$id" SUCCEEDED
	assert_eq $'a\nb\nc\nside' "$(sort "$T/started")" "$runtime: the rerun of a and side"
	assert_contains "$(write_error "$R/ctl" "rerun nope")" "Invalid argument" "$runtime: rerun of an unknown task run"
	assert_contains "$(write_error "$R/tasks/a/ctl" stop)" "Invalid argument" "$runtime: stop written to a task's ctl"

	# Not while it runs.
	jq -n '{name: "slow", tasks: {s: {command: ["sleep", "30"]}}, steps: [{id: "s", task: "s"}]}' >"$T/slow.json"
	slow=$(submit "$T/slow.json")
	wait_state "$slow" RUNNING
	assert_eq $'state RUNNING\nverbs' "$(rd "$MNT/runs/$slow/tasks/s/ctl")" "$runtime: a running task run's ctl"
	assert_contains "$(write_error "$MNT/runs/$slow/tasks/s/ctl" rerun)" "Device or resource busy" "$runtime: rerun while it runs"
	wr "$MNT/runs/$slow/ctl" kill
	wait_state "$slow" KILLED TERMINATED
	stop_runfs
done

# A FAILED run: a rerun of a task run downstream of the failure does not
# run (its parent stays FAILED), and the run ends FAILED again; retry
# still reruns what did not succeed.
start_runfs in_process
jq -n --arg flag "$T/flag" '{name: "mixed",
  tasks: {f: {command: ["sh", "-c", "test -e \"$0\"", $flag]}, t: {command: ["echo", "{x}"]}},
  steps: [{id: "f", task: "f"}, {id: "after", task: "t", args: {x: {from: "f"}}},
          {id: "ok", task: "t", args: {x: "fine"}}]}' >"$T/mixed.json"
id=$(submit "$T/mixed.json")
wait_state "$id" FAILED
R=$MNT/runs/$id
assert_eq $'state FAILED\nverbs retry rerun' "$(rd "$R/ctl")" "a FAILED run's ctl"
wr "$R/ctl" "rerun ok" || fail "rerun ok"
wait_state "$id" FAILED
assert_eq "2 FAILED 1" "$(rd "$R/tasks/ok/attempts") $(rd "$R/tasks/f/status") $(rd "$R/tasks/f/attempts")" \
	"ok ran again, f was left FAILED"
touch "$T/flag"
wr "$R/ctl" retry || fail "retry"
wait_state "$id" SUCCEEDED
assert_eq "fine" "$(rd "$R/tasks/ok/stdout")" "ok after the retry"
stop_runfs
check_stderr
