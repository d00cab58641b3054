#!/usr/bin/env bash
# graph.dot: the run's graph for Graphviz. dot -Tsvg renders it; nodes are
# coloured by state and labelled with the step, the task's name and the
# duration; a fan-out of more than 50 copies is one node with its count;
# the picture follows the run; runfs graph prints it.
. "$(dirname "$0")/lib.sh"

command -v dot >/dev/null || fail "dot (graphviz) is not installed"
start_runfs in_process

svg() { # svg RUN: dot -Tsvg of the run's graph.dot; fails when dot does
	rd "$MNT/runs/$1/graph.dot" >"$T/g.dot"
	dot -Tsvg "$T/g.dot" >"$T/g.svg" || fail "dot -Tsvg refused $1's graph.dot: $(cat "$T/g.dot")"
	grep -q '<svg' "$T/g.svg" || fail "no SVG from $1's graph"
}
nodes() { grep -c '<g id="node' "$T/g.svg"; }
edges() { grep -c '<g id="edge' "$T/g.svg"; }

# The fanout example: 100 copies, folded into one node, and the sum.
fan=$(submit "$SRCDIR/examples/fanout.json")
wait_state "$fan" SUCCEEDED
svg "$fan"
assert_eq 2 "$(nodes)" "the fanout example's nodes"
assert_eq 1 "$(edges)" "its edges"
grep -q 'square ×100' "$T/g.svg" || fail "the folded node's count is not in the picture"
dotf=$(rd "$MNT/runs/$fan/graph.dot")
assert_match '"square" \[label="square ×100\\nsquare\\n100 SUCCEEDED\\n[0-9.]+m?s", fillcolor="#a1d99b"\]' \
	"$dotf" "the folded node: count, task, states, duration, green"
assert_match '"total" \[label="total\\nsum\\nSUCCEEDED\\n[0-9.]+m?s"' "$dotf" "a single node"
assert_contains "$dotf" '"square" -> "total";' "the edge"
assert_eq "$dotf" "$(timeout 30 "$RUNFS" graph "$fan" --mount "$MNT")" "runfs graph prints graph.dot"
assert_eq "$dotf" "$(timeout 30 "$RUNFS" graph "$fan")" "runfs graph finds the mount"
rc=0
timeout 30 "$RUNFS" graph wf.none.0000000 >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "runfs graph of a run that is not there"

# 50 copies stay 50 nodes, each with its own edge to the sum.
jq -n '{name: "fifty",
  tasks: {one: {command: ["echo", "{i}"]}, all: {command: ["cat"], stdin: "{xs}"}},
  steps: [{id: "one", task: "one", foreach: {i: [range(0; 50)]}},
          {id: "all", task: "all", args: {xs: {from: "one"}}}]}' >"$T/fifty.json"
fifty=$(submit "$T/fifty.json")
wait_state "$fifty" SUCCEEDED
svg "$fifty"
assert_eq 51 "$(nodes)" "50 copies and the sum"
assert_eq 50 "$(edges)" "one edge per copy"

# A failing run: the failed task red, its dependant grey (it never ran).
failing=$(submit "$SRCDIR/examples/failing.json")
wait_state "$failing" FAILED
svg "$failing"
dotf=$(rd "$MNT/runs/$failing/graph.dot")
assert_match '"check" \[label="check\\nfail\\nFAILED\\n[0-9.]+m?s", fillcolor="#fc9272"\]' "$dotf" "the failed task"
assert_match '"report" \[label="report\\nreport\\nWAITING", fillcolor="#e0e0e0"\]' "$dotf" "the dependant"

# A folded fan-out with one copy failing shows red and counts both states;
# while the run goes on, the picture shows it running, then follows.
gate=$T/gate
jq -n --arg g "$gate" --arg tok "$TOKEN" '{name: "mixed",
  tasks: {t: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done; [ \"$1\" != 7 ]", $g, "{i}", $tok]}},
  steps: [{id: "t", task: "t", foreach: {i: [range(0; 60)]}}]}' >"$T/mixed.json"
mixed=$(submit "$T/mixed.json")
wait_task_state "$mixed" t.0 RUNNING
dotf=$(rd "$MNT/runs/$mixed/graph.dot")
assert_contains "$dotf" '"t" [label="t ×60\nt\n' "the folded node while running"
assert_contains "$dotf" 'RUNNING' "copies shown running"
assert_contains "$dotf" 'fillcolor="#9ecae1"' "coloured as running"
touch "$gate"
wait_state "$mixed" FAILED
svg "$mixed"
dotf=$(rd "$MNT/runs/$mixed/graph.dot")
# The run failed with its first failed copy: the rest succeeded or never ran.
assert_contains "$dotf" '\n1 FAILED' "the copy that failed"
counts=$(grep -o '\\n[0-9]* [A-Z]*' <<<"$dotf" | cut -c3- | awk '{n[$2] += $1} END {print n["SUCCEEDED"] + n["WAITING"], n["RUNNING"] + 0}')
assert_eq "59 0" "$counts" "the other copies: succeeded or waiting, none running"
assert_contains "$dotf" 'fillcolor="#fc9272"' "a fan-out with a failed copy is red"
assert_eq "$(rd "$MNT/runs/$mixed/graph.dot" | wc -c)" "$(timeout "$TO" stat -c %s "$MNT/runs/$mixed/graph.dot")" "graph.dot's size"

stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
