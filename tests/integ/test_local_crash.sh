#!/usr/bin/env bash
# kill -9 of the local runtime during a run: its task processes go with it
# (the guard), the run keeps showing RUNNING while nobody can know better,
# the next `runfs up` records the run and its running task KILLED and
# loses nothing else, and `retry` re-runs only what did not succeed,
# reusing the outputs of what did, to SUCCEEDED.
. "$(dirname "$0")/lib.sh"

# first: counts its runs in $T/first.count and prints "seed"; slow: runs
# until the file GO exists (touched before the retry); last: joins both.
jq -n --arg t "$T" --arg tok "$TOKEN" '{
  name: "crash",
  config: "local",
  tasks: {
    first: {command: ["sh", "-c", "echo run >>\"$0/first.count\"; echo seed", $t]},
    slow: {command: ["sh", "-c", "while [ ! -e \"$0/GO\" ]; do sleep 0.05; done; echo \"$1-grown\"", $t, "{s}", $tok]},
    last: {command: ["sh", "-c", "echo \"$0+$1\"", "{a}", "{b}"]}
  },
  steps: [
    {id: "first", task: "first"},
    {id: "slow", task: "slow", args: {s: {from: "first"}}},
    {id: "side", task: "last", args: {a: {from: "first"}, b: "x"}},
    {id: "last", task: "last", args: {a: {from: "first"}, b: {from: "slow"}}}
  ],
  results: [{from: "last"}]
}' >"$T/crash.json"

start_runfs local
id=$(submit "$T/crash.json")
R=$MNT/runs/$id
wait_task_state "$id" slow RUNNING
wait_task_state "$id" side SUCCEEDED
wait_proc "$TOKEN"
pid=$(local_pid)
[[ -n $pid ]] || fail "no local runtime is running"

kill -KILL "$pid"
_wait_gone "$pid" 100 || fail "the local runtime survived SIGKILL"
gone "$TOKEN" || fail "the task of the killed runtime is still running"
[[ -z $(local_pid) ]] || fail "runfs status still reports a runtime after its SIGKILL"
assert_eq RUNNING "$(rd "$R/status")" "the run before anyone reconciles it"

# runfs up reconciles: the cut-off task and its run are KILLED.
"$RUNFS" up --data "$DATA" >"$T/up.out" || fail "runfs up after the crash failed"
assert_eq KILLED "$(rd "$R/status")" "the run after runfs up"
assert_eq KILLED "$(rd "$R/tasks/slow/status")" "the task cut off"
assert_eq SUCCEEDED "$(rd "$R/tasks/first/status")" "a task that had succeeded"
assert_eq SUCCEEDED "$(rd "$R/tasks/side/status")" "another task that had succeeded"
assert_eq WAITING "$(rd "$R/tasks/last/status")" "a task that never started"
assert_contains "$(rd "$R/message")" "local runtime ended" "message of the KILLED run"
assert_eq seed "$(rd "$R/artifacts/first/stdout")" "first's output after the crash"
assert_eq "state KILLED
verbs retry rerun" "$(rd "$R/ctl")" "ctl of the KILLED run"

# retry: only slow and last run again.
touch "$T/GO"
wr "$R/ctl" retry || fail "retry failed"
assert_eq SUCCEEDED "$(timeout 20 cat "$R/wait")" "the retried run"
assert_eq "seed+seed-grown" "$(rd "$R/results/0")" "the retried run's result"
assert_eq 1 "$(wc -l <"$T/first.count")" "runs of first (its output was reused)"
assert_eq 1 "$(rd "$R/tasks/first/attempts")" "first's attempts"
assert_eq 1 "$(rd "$R/tasks/side/attempts")" "side's attempts"
assert_eq 2 "$(rd "$R/tasks/slow/attempts")" "slow's attempts (the killed one and the retry)"
assert_eq 1 "$(rd "$R/tasks/last/attempts")" "last's attempts"
assert_eq 1 "$(grep -c ' - KILLED$' <<<"$(rd "$R/events")")" "KILLED events of the run"
stop_runfs
