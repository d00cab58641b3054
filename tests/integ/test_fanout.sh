#!/usr/bin/env bash
# A fan-out of 50 feeding aggregate steps: by value (a sum over the copies'
# outputs, one per line) and by path (one path per line).
. "$(dirname "$0")/lib.sh"

def=$T/fan.json
jq -n --argjson items "$(seq 1 50 | jq -s -c .)" '{
  name: "fan50",
  tasks: {
    sq: {command: ["sh", "-c", "echo $(($1 * $1))", "sq", "{n}"]},
    sum: {command: ["awk", "{s += $1} END {print NR, s}"], stdin: "{numbers}"},
    lines: {command: ["sh", "-c", "xargs cat | wc -l"], stdin: "{files}"}
  },
  steps: [
    {id: "sq", task: "sq", foreach: {n: $items}},
    {id: "total", task: "sum", args: {numbers: {from: "sq"}}},
    {id: "count", task: "lines", args: {files: {path: "sq"}}}
  ],
  results: [{from: "total"}, {from: "count"}, {path: "sq"}]
}' >"$def"

start_runfs in_process
id=$(submit "$def")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id

tasks=$(timeout "$TO" ls "$R/tasks")
assert_eq 52 "$(wc -l <<<"$tasks")" "number of task directories"
assert_eq "$(seq 0 49 | sed 's/^/sq./' | sort)" "$(grep '^sq\.' <<<"$tasks" | sort)" "fan-out task ids"
grep -qx total <<<"$tasks" || fail "no tasks/total"
grep -qx count <<<"$tasks" || fail "no tasks/count"

for k in 0 1 24 49; do
	assert_eq $((k + 1)) "$(rd "$R/tasks/sq.$k/inputs/n")" "sq.$k/inputs/n"
	assert_eq $(((k + 1) * (k + 1))) "$(rd "$R/tasks/sq.$k/stdout")" "sq.$k/stdout"
	assert_eq sq "$(rd "$R/tasks/sq.$k/task")" "sq.$k/task"
	assert_eq SUCCEEDED "$(rd "$R/tasks/sq.$k/status")" "sq.$k/status"
done

# The aggregate steps: one parent per copy, their outputs one per line.
assert_eq "$(seq 0 49 | sed 's/^/sq./' | sort)" "$(rd "$R/tasks/total/parents" | sort)" "total/parents"
assert_eq "$(seq 1 50 | awk '{print $1 * $1}' | sort -n)" "$(rd "$R/tasks/total/inputs/numbers" | sort -n)" "total/inputs/numbers"
assert_eq "50 42925" "$(rd "$R/results/0")" "results/0 (count and sum of squares)"
assert_eq 50 "$(rd "$R/results/1" | tr -d ' ')" "results/1 (lines in the 50 files)"

paths=$(rd "$R/results/2")
assert_eq 50 "$(wc -l <<<"$paths")" "results/2 has one path per copy"
assert_eq "$paths" "$(rd "$R/tasks/count/inputs/files")" "results/2 and count/inputs/files"
sum=0
while IFS= read -r p; do
	[[ $p == "$DATA"/* && -f $p ]] || fail "results/2: $p is not a file in the data directory"
	sum=$((sum + $(cat "$p")))
done <<<"$paths"
assert_eq 42925 "$sum" "sum over the files results/2 names"

sj=$(rd "$R/status.json")
assert_eq 52 "$(jq -r .tasks.total <<<"$sj")" "status.json .tasks.total"
assert_eq 52 "$(jq -r .tasks.SUCCEEDED <<<"$sj")" "status.json .tasks.SUCCEEDED"
assert_eq 52 "$(jq -r '.task_runs | length' <<<"$sj")" "status.json task_runs"
assert_eq "52/52 SUCCEEDED" "$(rd "$R/progress")" progress
assert_eq 50 "$(rd "$R/logs" | grep -c '^sq\.[0-9]* | ')" "log lines of the copies"
