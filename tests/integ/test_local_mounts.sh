#!/usr/bin/env bash
# Runs on the local runtime outlive their mount and show in every mount of
# the same data directory: a run submitted on one mount is followed live on
# a second (wait, events, poll(), tail -f, status); it keeps running through
# an unmount and reads the same after a remount; a mount killed with
# SIGKILL disturbs none of its local runs. A mount also shows an in_process
# run of another mount live.
. "$(dirname "$0")/lib.sh"
[[ -x $POLLWAIT ]] || fail "POLLWAIT=$POLLWAIT is not an executable"

M2=$T/mnt2
# gate NAME GATE: a two-step run whose first step waits for the file GATE.
gate() {
	jq -n --arg name "$1" --arg g "$2" --arg tok "$TOKEN" '{
	  name: $name,
	  config: "local",
	  tasks: {
	    hold: {command: ["sh", "-c", "echo holding; while [ ! -e \"$0\" ]; do sleep 0.05; done; echo released", "{g}", $tok]},
	    up: {command: ["tr", "a-z", "A-Z"], stdin: "{x}"}
	  },
	  steps: [{id: "hold", task: "hold", args: {g: $g}},
	          {id: "shout", task: "up", args: {x: {from: "hold"}}}],
	  results: [{from: "shout"}]
	}' >"$T/$1.json"
	echo "$T/$1.json"
}

start_runfs local
start_extra "$M2" in_process

# 1. Submitted on the first mount, followed live on the second.
id=$(submit "$(gate live "$T/gate1")")
wait_task_state "$id" hold RUNNING
B=$M2/runs/$id
timeout "$TO" ls "$M2/runs" | grep -qx -- "$id" || fail "the second mount does not list $id"
assert_eq RUNNING "$(rd "$B/status")" "status on the second mount"
timeout 30 cat "$B/wait" >"$T/wait.out" &
waiter=$!
timeout 30 cat "$B/events" >"$T/events.out" &
evs=$!
"$POLLWAIT" "$B/status" 30000 >"$T/poll.out" &
poller=$!
timeout 30 tail -f "$B/logs" >"$T/tail.out" &
tailer=$!
sleep 0.5
_alive "$waiter" || fail "wait on the second mount returned before the run completed"
touch "$T/gate1"
wait "$waiter" || fail "wait on the second mount failed"
assert_eq SUCCEEDED "$(<"$T/wait.out")" "wait on the second mount"
wait "$evs" || fail "events on the second mount failed"
assert_eq 1 "$(grep -c ' shout SUCCEEDED$' "$T/events.out")" "events on the second mount: shout SUCCEEDED"
assert_eq 1 "$(grep -c ' - SUCCEEDED$' "$T/events.out")" "events on the second mount: the run's SUCCEEDED"
# pollwait exits 0 only when poll() woke it (1 on its timeout).
wait "$poller" || fail "poll() on the second mount's status did not wake"
wait_until 100 grep -q "hold | released" "$T/tail.out" || true
kill "$tailer" 2>/dev/null || true
wait "$tailer" 2>/dev/null || true
assert_contains "$(<"$T/tail.out")" "hold | released" "tail -f of the logs on the second mount"
assert_eq "HOLDING
RELEASED" "$(rd "$B/results/0")" "results on the second mount"
[[ $(rd "$B/status.json") == "$(rd "$MNT/runs/$id/status.json")" ]] ||
	fail "status.json differs between the two mounts"

# 2. The other way round: an in_process run of the second mount, live on
# the first.
jq '.config = "in_process" | .name = "inproc"' "$(gate x "$T/gate2")" >"$T/inproc.json"
id2=$(MNT=$M2 submit "$T/inproc.json")
MNT=$M2 wait_task_state "$id2" hold RUNNING
timeout 30 cat "$MNT/runs/$id2/wait" >"$T/wait2.out" &
waiter=$!
sleep 0.3
_alive "$waiter" || fail "wait on the first mount returned early for an in_process run of the second"
touch "$T/gate2"
wait "$waiter" || fail "wait on the first mount failed"
assert_eq SUCCEEDED "$(<"$T/wait2.out")" "wait on the first mount for the second's in_process run"

# 3. Unmount both while a local run is running; it goes on, and a new mount
# reads it to the end.
id3=$(submit "$(gate through "$T/gate3")")
wait_task_state "$id3" hold RUNNING
stop_extra "$M2"
stop_runfs
[[ -n $(local_pid) ]] || fail "the local runtime ended with the mounts"
pgrep -f -- "$T/gate3" >/dev/null || fail "the run's task ended with the mounts"
touch "$T/gate3"
# With no mount at all, the run ends: its record shows it once remounted.
wait_until 100 eval '! pgrep -f -- "$T/gate3" >/dev/null' || true
sleep 0.5
start_runfs in_process
assert_eq SUCCEEDED "$(timeout 20 cat "$MNT/runs/$id3/wait")" "the run after the remount"
assert_eq "HOLDING
RELEASED" "$(rd "$MNT/runs/$id3/results/0")" "its result after the remount"
assert_contains "$(rd "$MNT/runs/$id3/logs")" "shout | HOLDING" "its logs after the remount"
t_end=$(json "$MNT/runs/$id3/status.json" .ended)
assert_match "$ISO8601" "$t_end" "its end time"

# 4. kill -9 of a mount: its local runs go on.
id4=$(submit "$(gate crash "$T/gate4")")
wait_task_state "$id4" hold RUNNING
crash_runfs
touch "$T/gate4"
start_runfs local
assert_eq SUCCEEDED "$(timeout 20 cat "$MNT/runs/$id4/wait")" "a local run after its mount was killed"
assert_eq "HOLDING
RELEASED" "$(rd "$MNT/runs/$id4/results/0")" "its result"
stop_runfs
