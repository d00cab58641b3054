#!/usr/bin/env bash
# What a task gets: its env, RUNFS_RUN_ID, RUNFS_TASK_ID, RUNFS_OUTPUTS, its
# own working directory; named outputs; a declared output it does not write
# fails it; -o jobs=1 runs one task at a time unless resources.cpu says less.
. "$(dirname "$0")/lib.sh"

jq -n '{
  name: "envs",
  tasks: {
    show: {command: ["sh", "-c", "echo \"$GREETING $RUNFS_RUN_ID $RUNFS_TASK_ID\"; pwd; echo made >\"$RUNFS_OUTPUTS/report\"; echo here >local"],
           env: {GREETING: "hi"}, outputs: ["stdout", "report"]},
    lazy: {command: ["true"], outputs: ["missing"]},
    use: {command: ["cat", "{r}"]}
  },
  steps: [{id: "show", task: "show"}, {id: "lazy", task: "lazy"},
          {id: "use", task: "use", args: {r: {path: "show.report"}}}]
}' >"$T/envs.json"
start_runfs in_process "jobs=1"
id=$(submit "$T/envs.json")
wait_state "$id" FAILED
R=$MNT/runs/$id
out=$(rd "$R/tasks/show/stdout")
assert_eq "hi $id show" "$(head -n 1 <<<"$out")" "env and RUNFS_* variables"
wd=$(sed -n 2p <<<"$out")
assert_contains "$wd" "/runs/$id/work/show." "the working directory"
assert_eq "made" "$(rd "$R/tasks/show/outputs/report")" "a named output"
assert_eq "made" "$(rd "$R/artifacts/show/report")" "the named output as an artifact"
assert_eq FAILED "$(rd "$R/tasks/lazy/status")" "a task that did not write its output"
assert_contains "$(rd "$R/tasks/lazy/message")" 'output "missing" was not written' "its message"
[[ -f $wd/local ]] || fail "the task's file in its working directory is gone"

# jobs=1: two 0.5 s tasks at cpu 1 never overlap; at cpu 0.5 they do.
jq -n '{
  name: "cpu",
  tasks: {
    one: {command: ["sh", "-c", "date +%s%N >\"$RUNFS_OUTPUTS/s\"; sleep 0.5; date +%s%N >\"$RUNFS_OUTPUTS/e\""],
          outputs: ["s", "e"], resources: {cpu: 1}},
    half: {command: ["sh", "-c", "date +%s%N >\"$RUNFS_OUTPUTS/s\"; sleep 0.5; date +%s%N >\"$RUNFS_OUTPUTS/e\""],
           outputs: ["s", "e"], resources: {cpu: "500m"}}
  },
  steps: [{id: "a", task: "one"}, {id: "b", task: "one"}, {id: "c", task: "half"}, {id: "d", task: "half"}]
}' >"$T/cpu.json"
id2=$(submit "$T/cpu.json")
wait_state "$id2" SUCCEEDED
R2=$MNT/runs/$id2
overlap() { # overlap X Y: 0 when the two task runs' intervals intersect
	local xs xe ys ye
	xs=$(rd "$R2/tasks/$1/outputs/s") xe=$(rd "$R2/tasks/$1/outputs/e")
	ys=$(rd "$R2/tasks/$2/outputs/s") ye=$(rd "$R2/tasks/$2/outputs/e")
	((xs < ye && ys < xe))
}
overlap a b && fail "two cpu-1 tasks ran at once under jobs=1"
overlap c d || fail "two cpu-0.5 tasks did not run at once under jobs=1"
