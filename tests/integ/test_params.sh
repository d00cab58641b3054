#!/usr/bin/env bash
# Parameters at submit: defaults declared in the definition, values given
# with runfs submit --param and in a {"definition", "params"} write to
# submit; params.json and definition.json show the values used; unknown
# names and bad values are refused with their name, and nothing recorded.
. "$(dirname "$0")/lib.sh"

jq -n '{name: "par", params: {n: "3", genome: "hg38", verbose: false},
  tasks: {t: {command: ["sh", "-c", "echo $0 $1 $2", "{n}", "{g}", "{v}"]}},
  steps: [{id: "t", task: "t", args: {n: {param: "n"}, g: {param: "genome"}, v: {param: "verbose"}}}],
  results: [{from: "t"}]}' >"$T/par.json"

start_runfs in_process
# The defaults.
id=$(submit "$T/par.json")
wait_state "$id" SUCCEEDED
assert_eq "3 hg38 false" "$(rd "$MNT/runs/$id/results/0")" "the defaults"
assert_eq '{"n":"3","genome":"hg38","verbose":"false"}' "$(jq -c . <"$MNT/runs/$id/params.json")" "params.json of the defaults"

# From the command line.
id=$(timeout "$TO" "$RUNFS" submit --mount "$MNT" "$T/par.json" --param n=20 --param genome=mm10)
wait_state "$id" SUCCEEDED
assert_eq "20 mm10 false" "$(rd "$MNT/runs/$id/results/0")" "--param n=20 --param genome=mm10"
assert_eq '{"n":"20","genome":"mm10","verbose":"false"}' "$(jq -c . <"$MNT/runs/$id/params.json")" "params.json"
assert_eq '{"n":"20","genome":"mm10","verbose":false}' "$(jq -c .params <"$MNT/runs/$id/definition.json")" \
	"the values used, in definition.json"

# Written into submit, beside the definition.
jq -n --slurpfile d "$T/par.json" '{definition: $d[0], params: {n: 7, verbose: true}}' >"$T/wrapped.json"
id=$(submit "$T/wrapped.json")
wait_state "$id" SUCCEEDED
assert_eq "7 hg38 true" "$(rd "$MNT/runs/$id/results/0")" "params written with the definition"
assert_eq '7' "$(jq -r .params.n <"$MNT/runs/$id/definition.json")" "definition.json of the write"

# Refusals: an unknown name, from both; a bad value; a reference to an
# undeclared parameter.
n_before=$(rd "$MNT/index" | wc -l)
out=$("$RUNFS" submit --mount "$MNT" "$T/par.json" --param threads=4 2>&1) && fail "an unknown --param was accepted"
assert_contains "$out" 'unknown parameter "threads" (the definition declares: n, genome, verbose)' "--param threads=4"
jq -n --slurpfile d "$T/par.json" '{definition: $d[0], params: {nope: 1}}' >"$T/bad1.json"
assert_contains "$(submit_raw "$T/bad1.json")" 'error: params.nope: unknown parameter "nope"' "an unknown name written"
jq -n --slurpfile d "$T/par.json" '{definition: $d[0], params: {n: [1]}}' >"$T/bad2.json"
assert_contains "$(submit_raw "$T/bad2.json")" 'error: params.n: expected a string, number or boolean' "a list as a value"
jq '.steps[0].args.n = {param: "count"}' "$T/par.json" >"$T/bad3.json"
assert_contains "$(submit_raw "$T/bad3.json")" 'error: steps[0].args.n.param: unknown parameter "count"' \
	"a reference to an undeclared parameter"
jq -n --slurpfile d "$T/par.json" '{definition: $d[0], extra: 1}' >"$T/bad4.json"
assert_contains "$(submit_raw "$T/bad4.json")" 'error: extra: unknown field of a submission' "an unknown field beside definition"
out=$("$RUNFS" submit --mount "$MNT" "$T/par.json" --param =4 2>&1) && fail "--param =4 was accepted"
assert_contains "$out" "--param takes NAME=VALUE" "--param =4"
assert_eq "$n_before" "$(rd "$MNT/index" | wc -l)" "runs recorded after the refusals"

# A definition without params: params.json is {}.
id=$(submit "$SRCDIR/examples/hello.json")
assert_eq '{}' "$(jq -c . <"$MNT/runs/$id/params.json")" "params.json of a run without params"
wait_state "$id" SUCCEEDED
stop_runfs
check_stderr
