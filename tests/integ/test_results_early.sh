#!/usr/bin/env bash
# Results and outputs read before the run finishes fail with EAGAIN; once
# it has succeeded they read as written.
. "$(dirname "$0")/lib.sh"

gate=$T/gate
def=$T/gated.json
# "first" waits until the test creates the gate file, then prints "ready".
jq -n --arg gate "$gate" --arg tok "$TOKEN" '{
  name: "gated",
  tasks: {
    wait_gate: {command: ["sh", "-c", "while [ ! -e \"$1\" ]; do sleep 0.05; done; echo ready", $tok, "{gate}"]},
    echo: {command: ["cat"], stdin: "{text}"}
  },
  steps: [
    {id: "first", task: "wait_gate", args: {gate: $gate}},
    {id: "second", task: "echo", args: {text: {from: "first"}}}
  ],
  results: [{from: "second"}, {path: "first"}]
}' >"$def"

start_runfs in_process
id=$(submit "$def")
R=$MNT/runs/$id
wait_task_state "$id" first RUNNING
wait_proc "$TOKEN"
wait_state "$id" RUNNING
assert_eq "0/2 RUNNING" "$(rd "$R/progress")" progress
for f in results/0 results/1 tasks/first/outputs/stdout artifacts/first/stdout tasks/second/inputs/text; do
	if [[ $f == artifacts/* ]]; then
		# artifacts/ lists only task runs that succeeded.
		timeout "$TO" stat "$R/$f" >/dev/null 2>&1 && fail "$f exists before first succeeded"
		continue
	fi
	assert_contains "$(read_error "$R/$f")" "Resource temporarily unavailable" "reading $f while running"
done
assert_eq "" "$(rd "$R/tasks/first/exit_code")" "first/exit_code while running"
assert_eq "" "$(rd "$R/tasks/first/ended")" "first/ended while running"
assert_match "$ISO8601" "$(rd "$R/tasks/first/started")" "first/started while running"
assert_eq 1 "$(rd "$R/tasks/first/attempts")" "first/attempts while running"
assert_eq WAITING "$(rd "$R/tasks/second/status")" "second/status while first runs"
assert_eq "null" "$(json "$R/status.json" .ended)" "status.json .ended while running"
check_sizes "$R"

touch "$gate"
wait_state "$id" SUCCEEDED
assert_eq ready "$(rd "$R/results/0")" "results/0 once succeeded"
assert_eq ready "$(rd "$R/tasks/second/inputs/text")" "second/inputs/text"
p=$(rd "$R/results/1")
assert_eq "ready" "$(cat "$p")" "the file results/1 names"
assert_eq ready "$(rd "$R/artifacts/first/stdout")" "artifacts/first/stdout"
assert_eq "2/2 SUCCEEDED" "$(rd "$R/progress")" progress
