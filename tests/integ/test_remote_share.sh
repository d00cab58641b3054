#!/usr/bin/env bash
# Runs found from any machine, on the real single-node Slurm: two mounts of
# the saved configuration "lab" with data directories of their own (two
# machines sharing the cluster's work directory) see the same runs in
# runs/, index, by-state/ and `runfs runs`, follow them to their ends; one
# stops a run the other submitted, and both retry a FAILED run at once:
# the lock on its record lets only one of them submit jobs. A third mount
# started after the runs ended finds them with their states.
. "$(dirname "$0")/lib.sh"

slurm_lab
B=$T/mnt-b
C=$T/mnt-c
start_runfs lab
start_extra "$B" lab "data_dir=$T/data-b"

# Seen by B, while it runs and to its end.
jq -n '{name: "slow", tasks: {s: {command: ["sh", "-c", "sleep 6; echo done-$0", "{x}"]}},
        steps: [{id: "s", task: "s", args: {x: "one"}}], results: [{from: "s"}]}' >"$T/slow.json"
id=$(submit "$T/slow.json")
wait_until 200 test -d "$B/runs/$id" || fail "mount B does not list $id within 10 s"
assert_eq slow "$(json "$B/runs/$id/status.json" .name)" "the run's name on B"
assert_eq lab "$(rd "$B/runs/$id/config")" "the run's configuration on B"
assert_contains "$(rd "$B/index")" "$id" "B's index"
assert_contains "$(timeout 10 "$RUNFS" runs --mount "$B")" "$id" "runfs runs on B"
wait_until 200 test -L "$B/by-state/RUNNING/$id" || fail "B's by-state/RUNNING has no $id"
assert_eq SUCCEEDED "$(timeout 60 cat "$B/runs/$id/wait")" "the run's end seen from B"
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id/wait")" "the run's end seen from A"
assert_eq "done-one" "$(rd "$B/runs/$id/results/0")" "the result read on B"
assert_eq "$(rd "$MNT/runs/$id/tasks/s/exit_code")" "$(rd "$B/runs/$id/tasks/s/exit_code")" \
	"the exit code on A and B"
test -L "$B/by-state/SUCCEEDED/$id" || fail "B's by-state/SUCCEEDED has no $id"

# B stops a run A submitted.
jq -n '{name: "long", tasks: {l: {command: ["sleep", "300"]}}, steps: [{id: "l", task: "l"}]}' >"$T/long.json"
id2=$(submit "$T/long.json")
wait_until 200 test -d "$B/runs/$id2" || fail "mount B does not list $id2 within 10 s"
wait_until 1200 grep -qx RUNNING "$B/runs/$id2/status" || fail "$id2 is not RUNNING on B"
wr "$B/runs/$id2/ctl" stop || fail "stop from B"
assert_eq TERMINATED "$(timeout 60 cat "$B/runs/$id2/wait")" "the stopped run on B"
assert_eq TERMINATED "$(timeout 60 cat "$MNT/runs/$id2/wait")" "the run B stopped, on A"
wait_until 200 sh -c "! squeue -h -n $id2.l -o %i | grep -q ." ||
	fail "the stopped run's job is still in squeue: $(squeue -h -o '%i %j %T')"

# A FAILED run, retried from both mounts at the same moment: one set of
# jobs. Each attempt leaves a line in the work directory.
jq -n --arg f "$SLURM_WORKDIR/flag" --arg c "$SLURM_WORKDIR/count" '{name: "flaky",
  tasks: {f: {command: ["sh", "-c", "echo x >>\"$1\"; test -e \"$0\"", $f, $c]}},
  steps: [{id: "f", task: "f"}]}' >"$T/flaky.json"
id3=$(submit "$T/flaky.json")
wait_until 200 test -d "$B/runs/$id3" || fail "mount B does not list $id3 within 10 s"
assert_eq FAILED "$(timeout 60 cat "$MNT/runs/$id3/wait")" "the flaky run on A"
assert_eq FAILED "$(timeout 60 cat "$B/runs/$id3/wait")" "the flaky run on B"
touch "$SLURM_WORKDIR/flag"
(echo retry >"$MNT/runs/$id3/ctl") 2>"$T/retry-a" &
ra=$!
(echo retry >"$B/runs/$id3/ctl") 2>"$T/retry-b" &
rb=$!
wait "$ra" || true
wait "$rb" || true
note "retry from A: $(<"$T/retry-a") / from B: $(<"$T/retry-b")"
for m in "$MNT" "$B"; do
	wait_until 1200 grep -qx SUCCEEDED "$m/runs/$id3/status" ||
		fail "the retried run on $m: $(rd "$m/runs/$id3/status"), $(rd "$m/runs/$id3/message")"
done
assert_eq 2 "$(wc -l <"$SLURM_WORKDIR/count")" "attempts of the flaky task (its first and one retry)"
assert_eq 2 "$(rd "$B/runs/$id3/tasks/f/attempts")" "the flaky task's attempts on B"
assert_eq 2 "$(rd "$MNT/runs/$id3/tasks/f/attempts")" "the flaky task's attempts on A"

# An attempt that fails with attempts left, seen failing by both mounts:
# one resubmission between them.
jq -n --arg f "$SLURM_WORKDIR/flag2" --arg c "$SLURM_WORKDIR/count2" '{name: "again",
  tasks: {a: {command: ["sh", "-c", "echo x >>\"$1\"; test -e \"$0\" || { touch \"$0\"; exit 1; }", $f, $c],
              retries: 2}},
  steps: [{id: "a", task: "a"}]}' >"$T/again.json"
id4=$(submit "$T/again.json")
wait_until 200 test -d "$B/runs/$id4" || fail "mount B does not list $id4 within 10 s"
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id4/wait")" "the run retried by Slurm, on A"
assert_eq SUCCEEDED "$(timeout 60 cat "$B/runs/$id4/wait")" "the run retried by Slurm, on B"
assert_eq 2 "$(wc -l <"$SLURM_WORKDIR/count2")" "attempts of a task that failed once (both mounts saw it fail)"
assert_eq 2 "$(rd "$B/runs/$id4/tasks/a/attempts")" "its attempts on B"

# A third machine, after the fact.
start_extra "$C" lab "data_dir=$T/data-c"
wait_until 200 test -d "$C/runs/$id3" || fail "mount C does not list $id3 within 10 s"
for r in "$id:SUCCEEDED" "$id2:TERMINATED" "$id3:SUCCEEDED" "$id4:SUCCEEDED"; do
	assert_eq "${r#*:}" "$(rd "$C/runs/${r%%:*}/status")" "run ${r%%:*} on a later mount"
done
assert_eq "done-one" "$(rd "$C/runs/$id/results/0")" "the result read on C"
assert_eq 4 "$(rd "$C/index" | wc -l)" "runs C lists"

# The record is plain JSON beside the job files, and holds no token.
jq -e --arg id "$id3" '.id == $id and .generation >= 2 and .state == "SUCCEEDED"
    and (.owner.user | length > 0) and (.tasks | length == 1)' \
	"$SLURM_WORKDIR/runs/$id3/run.json" >/dev/null || fail "the record of $id3: $(cat "$SLURM_WORKDIR/runs/$id3/run.json")"
if grep -rqF -- "$SLURM_JWT" "$SLURM_WORKDIR"; then
	fail "the token is in the work directory: $(grep -rlF -- "$SLURM_JWT" "$SLURM_WORKDIR")"
fi
stop_extra "$C"
stop_extra "$B"
stop_runfs
check_stderr
