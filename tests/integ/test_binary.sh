#!/usr/bin/env bash
# Bytes that are not UTF-8 pass between steps intact: the result and
# inputs/ show them as they are, and command shows them as base64.
# A log of a few MiB reads the same through the mount whatever the read
# size (the mount reads at most 512 KiB at a time, its block size).
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

# Distinct lines, so that a piece out of place would show.
jq -n '{name: "lines", tasks: {t: {command: ["seq", "1", "500000"]}}, steps: [{id: "t", task: "t"}]}' >"$T/lines.json"
id=$(submit "$T/lines.json")
wait_state "$id" SUCCEEDED
log=$MNT/runs/$id/tasks/t/stdout
seq 1 500000 >"$T/lines"
assert_eq 524288 "$(timeout "$TO" stat -c %o "$log")" "a log's block size"
for bs in 4k 128k 512k 1M 4M; do
	timeout 60 dd if="$log" bs="$bs" status=none >"$T/read" || fail "dd bs=$bs of the log"
	cmp "$T/lines" "$T/read" || fail "the log read with dd bs=$bs differs from what the task printed"
done
timeout 60 cat "$log" | cmp "$T/lines" - || fail "the log read with cat differs"
