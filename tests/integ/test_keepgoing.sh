#!/usr/bin/env bash
# Keeping going past failures, and finding task runs without loops: a
# fan-out of 1,000 with 10 failing copies and "on_failure": "continue"
# gives 990 SUCCEEDED, the fan-in TERMINATED "not run", the run FAILED;
# status.json answers with one jq, runs/ID/by-state/ lists task runs by
# state, runfs tasks prints them. The default stops new starts. Then
# retry_delay, measured by the starts of the attempts; on both runtimes.
. "$(dirname "$0")/lib.sh"

bad='[3, 100, 200, 300, 400, 500, 600, 700, 800, 999]'
jq -n --argjson bad "$bad" '{name: "keep", on_failure: "continue",
  tasks: {w: {command: ["sh", "-c", "case \" $1 \" in *\" $0 \"*) exit 3;; esac; echo $0", "{i}", ($bad | map(tostring) | join(" "))]},
          sum: {command: ["echo", "all"]}, other: {command: ["echo", "other"]}},
  steps: [{id: "w", task: "w", foreach: {i: [range(1000)]}},
          {id: "sum", task: "sum", args: {}, "on_failure": "stop"},
          {id: "other", task: "other"}]}' >"$T/keep.json"
# sum takes every copy of w: it refers to w's output.
jq '.tasks.sum.command = ["cat", "{all}"] | .steps[1].args = {all: {path: "w"}}' "$T/keep.json" >"$T/k2" && mv "$T/k2" "$T/keep.json"

start_runfs in_process
id=$(submit "$T/keep.json")
WAIT_TIMEOUT=120 wait_state "$id" FAILED
R=$MNT/runs/$id
S=$(rd "$R/status.json")
assert_eq 990 "$(jq '.tasks.SUCCEEDED - 1' <<<"$S")" "SUCCEEDED copies of w (990, and other)"
assert_eq 10 "$(jq '.tasks.FAILED' <<<"$S")" "FAILED copies"
assert_eq "TERMINATED" "$(rd "$R/tasks/sum/status")" "the fan-in"
assert_match '^not run: w\.[0-9]+ failed$' "$(rd "$R/tasks/sum/message")" "the fan-in's message"
assert_eq "1002/1002 FAILED" "$(rd "$R/progress")" "progress counts every task run"
assert_eq SUCCEEDED "$(rd "$R/tasks/other/status")" "the other branch"
assert_match '^task w\.[0-9]+ failed: ' "$(rd "$R/message")" "the run's message"
# One jq: the FAILED task runs of task w, with their exit codes.
assert_eq "$(jq -r 'map(tostring) | map("w." + .) | .[]' <<<"$bad" | sort)" \
	"$(jq -r '.task_runs[] | select(.task == "w" and .state == "FAILED") | .id' <<<"$S" | sort)" \
	"jq: FAILED task runs of task w"
jq -e '[.task_runs[] | select(.state == "FAILED") | .exit_code] | unique == [3]' <<<"$S" >/dev/null ||
	fail "exit codes of the FAILED task runs"
jq -e '.task_runs[] | select(.id == "w.0") | .started != null and .ended != null and .attempts == 1 and .step == "w"' \
	<<<"$S" >/dev/null || fail "w.0 in status.json: $(jq -c '.task_runs[0]' <<<"$S")"
# by-state: links to the task runs.
assert_eq "$(jq -r '.[] | "w." + tostring' <<<"$bad" | sort)" "$(ls "$R/by-state/FAILED" | sort)" "by-state/FAILED"
assert_eq "../../tasks/sum" "$(readlink "$R/by-state/TERMINATED/sum")" "by-state/TERMINATED/sum"
assert_eq 3 "$(rd "$R/by-state/FAILED/w.3/exit_code")" "exit_code through the link"
assert_eq 991 "$(find "$R/by-state/SUCCEEDED" -type l | wc -l)" "links in by-state/SUCCEEDED"
[[ -z $(ls "$R/by-state/RUNNING") ]] || fail "by-state/RUNNING of an ended run is not empty"
# runfs tasks.
out=$(timeout "$TO" "$RUNFS" tasks "$id" --state FAILED --task w)
assert_eq 11 "$(wc -l <<<"$out")" "runfs tasks --state FAILED --task w: a header and 10 rows"
assert_match '^ID +STATE +TASK +ATTEMPTS +STARTED +ENDED +EXIT$' "$(head -1 <<<"$out")" "runfs tasks' header"
assert_eq "w.3 FAILED w 1 3" "$(timeout "$TO" "$RUNFS" tasks "$id" --tsv --state FAILED | awk -F'\t' '$1 == "w.3" {print $1, $2, $3, $4, $7}')" \
	"runfs tasks --tsv"

# The default: the first failure stops new starts.
jq 'del(.on_failure) | .steps[0].foreach.i = [range(40)] | .name = "stop"' "$T/keep.json" >"$T/stop.json"
id=$(submit "$T/stop.json")
wait_state "$id" FAILED
assert_eq WAITING "$(rd "$MNT/runs/$id/tasks/sum/status")" "the fan-in under the default on_failure"
[[ $(jq '.tasks.SUCCEEDED' <"$MNT/runs/$id/status.json") -lt 40 ]] || fail "the default went on past the failure"
assert_contains "$(submit_raw <(jq '.on_failure = "later"' "$T/keep.json") || true)" \
	'on_failure: expected "stop" or "continue"' "a bad on_failure"

# The same keep-going on the local runtime, smaller: 20 copies, w.3 fails.
stop_runfs
start_runfs local
jq '.steps[0].foreach.i = [range(20)] | .name = "keeplocal"' "$T/keep.json" >"$T/keep20.json"
id=$(submit "$T/keep20.json")
WAIT_TIMEOUT=60 wait_state "$id" FAILED
S=$(rd "$MNT/runs/$id/status.json")
assert_eq "19 1 TERMINATED" "$(jq -r '"\([.task_runs[] | select(.task == "w" and .state == "SUCCEEDED")] | length) \(.tasks.FAILED) \(.task_runs[] | select(.id == "sum") | .state)"' <<<"$S")" \
	"local: SUCCEEDED and FAILED copies, and the fan-in"
stop_runfs
start_runfs in_process

# retry_delay: [1, 2] then 2 again; the starts of the attempts show it.
for runtime in in_process local; do
	[[ $runtime == local ]] && { stop_runfs; start_runfs local; }
	rm -f "$T/starts"
	jq -n --arg f "$T/starts" '{name: "delayed",
	  tasks: {d: {command: ["sh", "-c", "date +%s.%N >>\"$0\"; exit 1", $f], retries: 3, retry_delay: [1, 2]}},
	  steps: [{id: "d", task: "d"}]}' >"$T/delay.json"
	id=$(submit "$T/delay.json")
	wait_until 100 grep -q . "$T/starts" || fail "$runtime: no first attempt"
	wait_until 40 grep -q "next attempt at" "$MNT/runs/$id/tasks/d/message" ||
		fail "$runtime: the waiting task's message: $(rd "$MNT/runs/$id/tasks/d/message")"
	assert_eq WAITING "$(rd "$MNT/runs/$id/tasks/d/status")" "$runtime: a task waiting out its delay"
	wait_state "$id" FAILED
	gaps=$(awk 'NR > 1 {printf "%.2f ", $1 - prev} {prev = $1}' "$T/starts")
	note "$runtime: gaps between attempts: $gaps"
	read -r g1 g2 g3 <<<"$gaps"
	awk -v a="$g1" -v b="$g2" -v c="$g3" 'BEGIN { exit !(a >= 1 && a < 1.9 && b >= 2 && b < 2.9 && c >= 2 && c < 2.9) }' ||
		fail "$runtime: the gaps between attempts are $gaps; expected about 1, 2, 2 s"
	assert_eq 4 "$(rd "$MNT/runs/$id/tasks/d/attempts")" "$runtime: attempts"
done
stop_runfs
check_stderr
