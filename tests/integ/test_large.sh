#!/usr/bin/env bash
# A 10,000-task run (2,000 under valgrind) reads like a small one: tasks/ is listed whole, in
# pages, with no entry lost or repeated (ls, ls -l, find); status.json
# holds every task run; graph.dot folds the fan-out; index and progress
# count them. (How long these take is scripts/bench's business.)
. "$(dirname "$0")/lib.sh"

# 10,000, or 2,000 under valgrind, where a task run costs tens of times
# what it does here.
N=$((VALGRIND ? 2000 : 10000))
start_runfs in_process
jq -n --argjson n "$N" '{name: "large",
  tasks: {t: {command: ["true", "{i}"]}},
  steps: [{id: "t", task: "t", foreach: {i: [range(0; $n)]}}]}' >"$T/large.json"
id=$(submit "$T/large.json")
WAIT_TIMEOUT=$((240 * SLOW)) wait_state "$id" SUCCEEDED
R=$MNT/runs/$id

timeout 60 ls "$R/tasks" >"$T/ls" || fail "ls tasks/"
assert_eq "$N" "$(wc -l <"$T/ls")" "ls tasks/: entries"
assert_eq "$N" "$(sort -u "$T/ls" | wc -l)" "ls tasks/: no entry twice"
assert_eq "$(seq 0 $((N - 1)) | sed 's/^/t./' | sort)" "$(sort "$T/ls")" "ls tasks/: exactly the task runs"
timeout 120 ls -l "$R/tasks" >"$T/lsl" || fail "ls -l tasks/"
assert_eq "$N" "$(grep -c '^dr-xr-xr-x' "$T/lsl")" "ls -l tasks/: every entry a folder"
assert_eq "$N" "$(timeout 120 find "$R/tasks" -mindepth 1 -maxdepth 1 -type d | wc -l)" "find tasks/"
assert_eq "SUCCEEDED" "$(rd "$R/tasks/t.$((N - 1))/status")" "the last task run"

timeout 60 cat "$R/status.json" >"$T/status.json" || fail "reading status.json"
assert_eq "$(timeout "$TO" stat -c %s "$R/status.json")" "$(wc -c <"$T/status.json")" "status.json's size"
assert_eq "$N $N $N" "$(jq -r '[(.task_runs | length), .tasks.total, .tasks.SUCCEEDED] | join(" ")' "$T/status.json")" "status.json's task runs"
assert_eq "$N" "$(jq -r '[.task_runs[] | select(.state == "SUCCEEDED")] | length' "$T/status.json")" "every one SUCCEEDED"
assert_eq "t.0 t.$((N - 1))" "$(jq -r '[.task_runs[0].id, .task_runs[-1].id] | join(" ")' "$T/status.json")" "in order"

assert_eq "$N/$N SUCCEEDED" "$(rd "$R/progress")" "progress"
assert_eq "$N/$N" "$(rd "$MNT/index" | awk -F'\t' -v id="$id" '$1 == id {print $6}')" "the index's count"
g=$(rd "$R/graph.dot")
assert_contains "$g" "\"t\" [label=\"t ×$N\\nt\\n$N SUCCEEDED" "graph.dot folds the fan-out"
assert_eq 1 "$(grep -c 'label=' <<<"$g")" "graph.dot: one node"
assert_eq "$((2 * N + 3))" "$(rd "$R/events" | wc -l)" "events: three for the run, two per task run"

stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
