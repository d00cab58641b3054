#!/usr/bin/env bash
# The kernel keeps what a settled run shows (attributes for a second,
# listings and page cache until the next open after a change;
# fs/kcache.c). Under load (runs submitted and the tree walked all
# along), each change of a run whose files were read, listed and stat'ed
# before must read right within a second after a write to its ctl, and
# within 2 s after a change made by another mount of the same data
# directory or by the CLI: status, progress, status.json, a task's status
# and attempts, the run's own by-state links, the index line and the
# top-level by-state link.
. "$(dirname "$0")/lib.sh"

start_runfs in_process
start_extra "$T/m2" in_process
gate=$T/gate
# a -> b -> c; b waits for the gate file.
jq -n --arg g "$gate" '{name: "kc",
  tasks: {t: {command: ["sh", "-c", "echo $0", "{me}"]},
          g: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.02; done; echo $1", $g, "{me}"]}},
  steps: [{id: "a", task: "t", args: {me: "a"}}, {id: "b", task: "g", args: {me: "b"}},
          {id: "c", task: "t", args: {me: "c"}}]}' >"$T/kc.json"
jq -n '{name: "churn", tasks: {t: {command: ["true"]}}, steps: [{id: "t", task: "t"}]}' >"$T/churn.json"

# The load: a writer and a walker until $T/stop.
(while [[ ! -e $T/stop ]]; do submit_raw "$T/churn.json" >/dev/null 2>&1 || true; done) &
load1=$!
(while [[ ! -e $T/stop ]]; do timeout 60 find "$MNT/runs" -maxdepth 3 -name status -exec cat {} + >/dev/null 2>&1 || true; done) &
load2=$!
at_exit "touch $(_q "$T/stop"); wait $load1 $load2 2>/dev/null"

# warm ID: what a user does to a settled run, so the kernel keeps it.
warm() {
	local R=$MNT/runs/$1 i
	for i in 1 2; do
		timeout "$TO" cat "$R/status" "$R/progress" "$R/status.json" "$R/tasks/b/status" "$R/tasks/b/attempts" >/dev/null
		timeout "$TO" ls -lR "$R" >/dev/null 2>&1 || true
		timeout "$TO" find "$R" -maxdepth 3 >/dev/null
		timeout "$TO" stat "$R/status" "$R/progress" "$R/tasks/b/status" >/dev/null
	done
}
# within S WHAT CMD...: CMD succeeds within S seconds (50 ms steps).
within() {
	local s=$1 what=$2
	shift 2
	LAST=
	wait_until $((s * 20)) "$@" || fail "$what: not right within $s s (last read: ${LAST:-nothing})"
}
is() {
	LAST=$(timeout "$TO" cat "$1" 2>&1)
	[[ $LAST == "$2" ]]
}
has_json_state() {
	LAST=$(timeout "$TO" jq -r .state "$1" 2>&1)
	[[ $LAST == "$2" ]]
}
index_says() { timeout "$TO" grep -q "^$1	$2	" "$MNT/index"; }

for round in 1 2 3; do
	touch "$gate"
	id=$(submit "$T/kc.json")
	wait_state "$id" SUCCEEDED
	R=$MNT/runs/$id
	warm "$id"
	[[ -L $R/by-state/SUCCEEDED/b ]] || fail "round $round: no by-state/SUCCEEDED/b"

	# A rerun through this mount's ctl: right at once after the write.
	rm -f "$gate"
	wr "$R/tasks/b/ctl" rerun || fail "round $round: rerun of b"
	within 1 "status after the rerun" is "$R/status" RUNNING
	within 1 "status.json after the rerun" has_json_state "$R/status.json" RUNNING
	within 1 "progress after the rerun" is "$R/progress" "2/3 RUNNING"
	within 1 "b's status after the rerun" is "$R/tasks/b/status" RUNNING
	within 1 "by-state/RUNNING/b after the rerun" test -L "$R/by-state/RUNNING/b"
	[[ ! -e $R/by-state/SUCCEEDED/b ]] || fail "round $round: by-state/SUCCEEDED/b stays after the rerun"
	within 2 "the index line after the rerun" index_says "$id" RUNNING
	within 2 "by-state/RUNNING/$id" test -L "$MNT/by-state/RUNNING/$id"
	touch "$gate"
	wait_state "$id" SUCCEEDED
	within 2 "progress after the rerun ended" is "$R/progress" "3/3 SUCCEEDED"
	assert_eq 2 "$(rd "$R/tasks/b/attempts")" "round $round: b's attempts after the rerun"
	warm "$id"

	# A rerun by another mount: this one's kernel cache must let go.
	rm -f "$gate"
	wr "$T/m2/runs/$id/tasks/b/ctl" rerun || fail "round $round: rerun of b from the other mount"
	within 2 "status after another mount's rerun" is "$R/status" RUNNING
	within 2 "b's status after another mount's rerun" is "$R/tasks/b/status" RUNNING
	within 2 "status.json after another mount's rerun" has_json_state "$R/status.json" RUNNING
	touch "$gate"
	wait_state "$id" SUCCEEDED
	within 2 "attempts after another mount's rerun" is "$R/tasks/b/attempts" 3
	warm "$id"

	# Deleted by the CLI (another process): gone from this mount.
	timeout "$TO" "$RUNFS" rm --mount "$T/m2" "$id" >/dev/null || fail "round $round: runfs rm $id"
	within 2 "status of the deleted run" test ! -e "$R/status"
	within 2 "tasks/b of the deleted run" test ! -e "$R/tasks/b/status"
done

touch "$T/stop"
wait "$load1" "$load2" 2>/dev/null || true
stop_extra "$T/m2"
stop_runfs
check_stderr
