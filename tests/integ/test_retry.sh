#!/usr/bin/env bash
# `retry` re-runs only the task runs that did not succeed and reuses the
# outputs of those that did, on a FAILED run and on a TERMINATED one, on
# in_process and on local alike, and on a KILLED one (local's is in
# test_local_crash).
. "$(dirname "$0")/lib.sh"

# make CONFIG: seed counts its runs; flaky fails until $T/FIX exists, and
# blocks while $T/HOLD exists; fin joins both.
make() {
	jq -n --arg t "$T" --arg c "$1" --arg tok "$TOKEN" '{
	  name: "retry",
	  config: $c,
	  tasks: {
	    seed: {command: ["sh", "-c", "echo run >>\"$0/seed.count\"; echo seed", $t]},
	    flaky: {command: ["sh", "-c", "while [ -e \"$0/HOLD\" ]; do sleep 0.05; done; [ -e \"$0/FIX\" ] || { echo broken >&2; exit 3; }; echo \"$1-ok\"", $t, "{s}", $tok]},
	    fin: {command: ["sh", "-c", "echo \"$0+$1\"", "{a}", "{b}"]}
	  },
	  steps: [
	    {id: "seed", task: "seed"},
	    {id: "flaky", task: "flaky", args: {s: {from: "seed"}}},
	    {id: "fin", task: "fin", args: {a: {from: "seed"}, b: {from: "flaky"}}}
	  ],
	  results: [{from: "fin"}]
	}' >"$T/retry.json"
}

for config in in_process local; do
	note "on $config"
	rm -f "$T/seed.count" "$T/FIX" "$T/HOLD"
	make "$config"
	start_runfs "$config"

	# A FAILED run, retried once the cause is fixed.
	id=$(submit "$T/retry.json")
	R=$MNT/runs/$id
	assert_eq FAILED "$(timeout 20 cat "$R/wait")" "$config: the run before the fix"
	assert_eq 3 "$(rd "$R/tasks/flaky/exit_code")" "$config: flaky's exit code"
	assert_eq WAITING "$(rd "$R/tasks/fin/status")" "$config: fin after the failure"
	touch "$T/FIX"
	wr "$R/ctl" retry || fail "$config: retry of a FAILED run failed"
	assert_eq SUCCEEDED "$(timeout 20 cat "$R/wait")" "$config: the retried run"
	assert_eq "seed+seed-ok" "$(rd "$R/results/0")" "$config: the retried run's result"
	assert_eq 1 "$(wc -l <"$T/seed.count")" "$config: runs of seed"
	assert_eq 1 "$(rd "$R/tasks/seed/attempts")" "$config: seed's attempts"
	assert_eq 2 "$(rd "$R/tasks/flaky/attempts")" "$config: flaky's attempts"
	assert_eq 1 "$(rd "$R/tasks/fin/attempts")" "$config: fin's attempts"
	write_error "$R/ctl" retry >/dev/null # a SUCCEEDED run takes no retry

	# A TERMINATED run (stopped while flaky held), retried.
	touch "$T/HOLD"
	id=$(submit "$T/retry.json")
	R=$MNT/runs/$id
	wait_task_state "$id" flaky RUNNING
	wr "$R/ctl" stop || fail "$config: stop failed"
	assert_eq TERMINATED "$(timeout 20 cat "$R/wait")" "$config: the stopped run"
	rm -f "$T/HOLD"
	wr "$R/ctl" retry || fail "$config: retry of a TERMINATED run failed"
	assert_eq SUCCEEDED "$(timeout 20 cat "$R/wait")" "$config: the retried TERMINATED run"
	assert_eq "seed+seed-ok" "$(rd "$R/results/0")" "$config: its result"
	assert_eq 2 "$(wc -l <"$T/seed.count")" "$config: runs of seed over both runs"
	assert_eq 1 "$(rd "$R/tasks/seed/attempts")" "$config: seed's attempts"
	stop_runfs
done

# A KILLED run (its in_process mount died under it), retried after a remount.
rm -f "$T/seed.count" "$T/FIX"
make in_process
touch "$T/HOLD"
start_runfs in_process
id=$(submit "$T/retry.json")
R=$MNT/runs/$id
wait_task_state "$id" flaky RUNNING
crash_runfs
gone "$TOKEN" || fail "the killed mount's task is still running"
rm -f "$T/HOLD"
touch "$T/FIX"
start_runfs in_process
WAIT_TIMEOUT=10 wait_state "$id" KILLED
wr "$R/ctl" retry || fail "retry of a KILLED run failed"
assert_eq SUCCEEDED "$(timeout 20 cat "$R/wait")" "the retried KILLED run"
assert_eq "seed+seed-ok" "$(rd "$R/results/0")" "its result"
assert_eq 1 "$(wc -l <"$T/seed.count")" "runs of seed"
stop_runfs
