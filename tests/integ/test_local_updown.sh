#!/usr/bin/env bash
# The local runtime's lifecycle: runfs status/up/down and their exit codes,
# a mount with no_autostart leaving a run WAITING with a message that says
# to run `runfs up`, `up` picking that run up, `stop` of a run queued for a
# runtime that is down, `down` ending running runs TERMINATED, and
# `down --wait` letting them finish.
. "$(dirname "$0")/lib.sh"

rc_of() { # rc_of CMD...: prints CMD's exit status (its output goes to $T/out)
	local rc=0
	timeout 60 "$@" >"$T/out" 2>&1 || rc=$?
	echo "$rc"
}

# sleeper NAME SECONDS: one task sleeping SECONDS, its output the result.
sleeper() {
	jq -n --arg name "$1" --arg s "$2" '{
	  name: $name,
	  tasks: {nap: {command: ["sh", "-c", "sleep \"$0\"; echo rested", "{s}"]}},
	  steps: [{id: "nap", task: "nap", args: {s: $s}}],
	  results: [{from: "nap"}]
	}' >"$T/$1.json"
	echo "$T/$1.json"
}

mkdir -p "$DATA"
assert_eq 1 "$(rc_of "$RUNFS" status --data "$DATA")" "runfs status before any up"
assert_contains "$(<"$T/out")" "not running" "runfs status before any up"
assert_eq 0 "$(rc_of "$RUNFS" down --data "$DATA")" "runfs down when not running"
assert_contains "$(<"$T/out")" "not running" "runfs down when not running"
assert_eq 2 "$(rc_of "$RUNFS" up --data "$DATA" --bogus)" "runfs up --bogus"
assert_contains "$(<"$T/out")" "usage: runfs up" "runfs up --bogus"
assert_eq 2 "$(rc_of "$RUNFS" down --timeout x --data "$DATA")" "runfs down --timeout x"

# 1. no_autostart: the run waits, and says for what.
start_runfs local no_autostart
id=$(submit "$(sleeper queued 0.1)")
sleep 0.3
assert_eq WAITING "$(rd "$MNT/runs/$id/status")" "a run while the runtime is down"
assert_contains "$(rd "$MNT/runs/$id/message")" "runfs up" "message of a run waiting for the runtime"
assert_eq local "$(rd "$MNT/runs/$id/config")" "config of the run"
assert_eq 1 "$(rc_of "$RUNFS" status --data "$DATA")" "no_autostart started nothing"

# 2. up starts it, once; the queued run is picked up.
assert_eq 0 "$(rc_of "$RUNFS" up --data "$DATA")" "runfs up"
assert_contains "$(<"$T/out")" "started" "runfs up"
pid=$(local_pid)
[[ $pid =~ ^[0-9]+$ ]] || fail "runfs status shows no pid after up"
assert_eq 0 "$(rc_of "$RUNFS" up --data "$DATA")" "a second runfs up"
assert_contains "$(<"$T/out")" "already running (pid $pid" "a second runfs up"
assert_eq 0 "$(rc_of "$RUNFS" status --data "$DATA")" "runfs status when up"
assert_contains "$(<"$T/out")" "running (pid $pid" "runfs status when up"
assert_eq SUCCEEDED "$(timeout 20 cat "$MNT/runs/$id/wait")" "the queued run after up"
assert_eq rested "$(rd "$MNT/runs/$id/results/0")" "its result"
assert_eq "" "$(rd "$MNT/runs/$id/message")" "its message once it ran"

# 3. down: the running run is stopped and ends TERMINATED; nothing is left.
u1=300.${TOKEN}1
id=$(submit "$(sleeper long "$u1")")
wait_task_state "$id" nap RUNNING
wait_proc "$u1"
assert_eq 0 "$(rc_of "$RUNFS" down --data "$DATA")" "runfs down"
assert_contains "$(<"$T/out")" "stopped (pid $pid)" "runfs down"
_alive "$pid" && fail "the runtime (pid $pid) is still there after runfs down"
assert_eq 1 "$(rc_of "$RUNFS" status --data "$DATA")" "runfs status after down"
assert_eq TERMINATED "$(rd "$MNT/runs/$id/status")" "a running run after runfs down"
assert_eq TERMINATED "$(rd "$MNT/runs/$id/tasks/nap/status")" "its task after runfs down"
gone "$u1" || fail "runfs down left the task's sleep ($u1) running"
assert_contains "$(rd "$MNT/runs/$id/ctl")" "retry" "ctl verbs after runfs down"

# 4. stop of a run queued while the runtime is down: it never starts.
id=$(submit "$(sleeper never 0.1)")
assert_eq WAITING "$(rd "$MNT/runs/$id/status")" "a run queued while the runtime is down"
wr "$MNT/runs/$id/ctl" stop || fail "stop of a queued run failed"
assert_eq TERMINATED "$(rd "$MNT/runs/$id/status")" "a queued run after stop"
assert_contains "$(rd "$MNT/runs/$id/message")" "before it started" "its message"
assert_eq 0 "$(rc_of "$RUNFS" up --data "$DATA")" "runfs up again"
sleep 0.5
assert_eq TERMINATED "$(rd "$MNT/runs/$id/status")" "the stopped run after runfs up"
assert_eq 0 "$(rd "$MNT/runs/$id/tasks/nap/attempts")" "attempts of the stopped run"

# 5. down --wait: the run finishes first.
id=$(submit "$(sleeper drained 1)")
wait_task_state "$id" nap RUNNING
assert_eq 0 "$(rc_of "$RUNFS" down --wait --data "$DATA")" "runfs down --wait"
assert_eq SUCCEEDED "$(rd "$MNT/runs/$id/status")" "a run after runfs down --wait"
assert_eq 1 "$(rc_of "$RUNFS" status --data "$DATA")" "runfs status after down --wait"
stop_runfs
