#!/usr/bin/env bash
# Stopping running runs: `stop` (SIGTERM to the process group), `kill`
# (SIGKILL at once), and `stop` of a task that ignores SIGTERM (SIGKILL after
# the grace period). Each ends TERMINATED and leaves no process behind.
. "$(dirname "$0")/lib.sh"

# mkdef NAME COMMAND_JSON: a run of one long task "long" and a dependant.
mkdef() {
	jq -n --arg name "$1" --argjson cmd "$2" '{
	  name: $name,
	  tasks: {long: {command: $cmd}, after: {command: ["cat"], stdin: "{x}"}},
	  steps: [{id: "long", task: "long"}, {id: "after", task: "after", args: {x: {from: "long"}}}],
	  results: [{from: "after"}]
	}' >"$T/$1.json"
	echo "$T/$1.json"
}

start_runfs in_process grace=1

# 1. stop: SIGTERM ends the sleep; exit_code is 128+15.
u1=300.${TOKEN}1
id=$(submit "$(mkdef stopme "$(jq -cn --arg s "$u1" '["sleep", $s]')")")
R=$MNT/runs/$id
wait_task_state "$id" long RUNNING
wait_proc "$u1"
wait_state "$id" RUNNING
ctl=$(rd "$R/ctl")
assert_eq "state RUNNING" "$(head -n 1 <<<"$ctl")" "ctl while running"
assert_contains "$ctl" "stop" "ctl verbs while running"
assert_contains "$ctl" "kill" "ctl verbs while running"
wr "$R/ctl" stop || fail "echo stop > ctl failed"
wait_state "$id" TERMINATED
gone "$u1" || fail "stop: the task's sleep ($u1) is still running"
assert_eq TERMINATED "$(rd "$R/tasks/long/status")" "long/status after stop"
assert_eq 143 "$(rd "$R/tasks/long/exit_code")" "long/exit_code after stop (128+SIGTERM)"
assert_eq WAITING "$(rd "$R/tasks/after/status")" "after/status after stop"
assert_eq 0 "$(rd "$R/tasks/after/attempts")" "after/attempts after stop"
assert_contains "$(rd "$R/message")" "stop" "message after stop"
assert_contains "$(rd "$R/ctl")" "retry" "ctl verbs after stop"
assert_contains "$(read_error "$R/results/0")" "No data available" "results/0 after stop"
# A verb that does not apply now: EBUSY.
assert_contains "$(write_error "$R/ctl" stop)" "Device or resource busy" "stop on a stopped run"

# 2. kill: SIGKILL at once; exit_code is 128+9.
u2=300.${TOKEN}2
id=$(submit "$(mkdef killme "$(jq -cn --arg s "$u2" '["sleep", $s]')")")
R=$MNT/runs/$id
wait_task_state "$id" long RUNNING
wait_proc "$u2"
wr "$R/ctl" kill || fail "echo kill > ctl failed"
wait_state "$id" TERMINATED
gone "$u2" || fail "kill: the task's sleep ($u2) is still running"
assert_eq TERMINATED "$(rd "$R/tasks/long/status")" "long/status after kill"
assert_eq 137 "$(rd "$R/tasks/long/exit_code")" "long/exit_code after kill (128+SIGKILL)"

# 3. stop of a task that ignores SIGTERM, and its child: the whole process
# group gets SIGKILL after grace=1.
u3=300.${TOKEN}3
id=$(submit "$(mkdef stubborn "$(jq -cn --arg s "$u3" '["sh", "-c", "trap \"\" TERM; sleep \($s); echo woke"]')")")
R=$MNT/runs/$id
wait_task_state "$id" long RUNNING
wait_proc "$u3"
wr "$R/ctl" stop || fail "echo stop > ctl failed"
WAIT_TIMEOUT=20 wait_state "$id" TERMINATED
gone "$u3" || fail "stop after grace: a process with $u3 is still running"
assert_eq TERMINATED "$(rd "$R/tasks/long/status")" "long/status after stop past grace"
assert_eq 137 "$(rd "$R/tasks/long/exit_code")" "long/exit_code after stop past grace (128+SIGKILL)"
soak "a task ignoring SIGTERM: stop escalates to SIGKILL" 1 0
assert_not_contains "$(rd "$R/tasks/long/stdout")" "woke" "long/stdout"
