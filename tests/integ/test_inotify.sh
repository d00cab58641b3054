#!/usr/bin/env bash
# inotify, best effort: a change of a run's state shows as an IN_ATTRIB
# event on its status file (the daemon touches it through the mount), also
# while other runs keep the daemon busy.
. "$(dirname "$0")/lib.sh"

command -v inotifywait >/dev/null || fail "inotifywait is missing (package inotify-tools)"

gate=$T/gate
gated_def "$T/gated.json" "$gate"
jq -n '{name: "load", tasks: {t: {command: ["true", "{i}"]}},
  steps: [{id: "t", task: "t", foreach: {i: [range(0; 300)]}}]}' >"$T/load.json"

start_runfs in_process
id=$(submit "$T/gated.json")
wait_state "$id" RUNNING

timeout 30 inotifywait -q -e attrib "$MNT/runs/$id/status" >"$T/inotify" 2>&1 &
ipid=$!
sleep 0.5 # inotifywait sets its watch
# Load: busy runs while we wait for the event.
for ((i = 0; i < 3; i++)); do
	submit "$T/load.json" >>"$T/load.ids"
done
touch "$gate"
rc=0
wait "$ipid" || rc=$?
assert_eq 0 "$rc" "inotifywait's exit (0: an event came)"
assert_contains "$(cat "$T/inotify")" "ATTRIB" "the event"
wait_state "$id" SUCCEEDED
while read -r lid; do
	wait_state "$lid" SUCCEEDED
done <"$T/load.ids"
# The daemon still answers after it all.
assert_eq SUCCEEDED "$(rd "$MNT/runs/$id/status")" "status after the load"
