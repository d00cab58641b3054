#!/usr/bin/env bash
# Bytes that are not UTF-8 pass between steps intact: the result and
# inputs/ show them as they are, and command shows them as base64.
. "$(dirname "$0")/lib.sh"

jq -n '{
  name: "bytes",
  tasks: {bin: {command: ["printf", "a\\377b"]}, echo: {command: ["printf", "%s", "{x}"]}},
  steps: [{id: "b", task: "bin"}, {id: "e", task: "echo", args: {x: {from: "b"}}}],
  results: [{from: "e"}]
}' >"$T/bytes.json"
start_runfs in_process
id=$(submit "$T/bytes.json")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
assert_eq "61ff62" "$(timeout 10 od -An -tx1 "$R/results/0" | tr -d ' \n')" "the result's bytes"
assert_eq "61ff62" "$(timeout 10 od -An -tx1 "$R/tasks/e/inputs/x" | tr -d ' \n')" "inputs/x's bytes"
assert_eq 3 "$(stat -c %s "$R/tasks/e/inputs/x")" "inputs/x's size"
assert_eq '["printf","%s",{"base64":"Yf9i"}]' "$(rd "$R/tasks/e/command")" "command"
