#!/usr/bin/env bash
# Living with runs on the real single-node Slurm: keep going past failed
# copies of a job array (the fan-in TERMINATED "not run", the run FAILED),
# a retry delay carried by the job's begin time, a rerun of a middle task
# run and its dependants only, and the delete of a remote run (its record
# and files in the work directory go too); the cache: a hit is decided
# before submission and its job is never sent.
. "$(dirname "$0")/lib.sh"

slurm_lab
start_runfs lab

# Keep going: 6 copies, 2 fail; the fan-in needs them all.
jq -n '{name: "keep", on_failure: "continue",
  tasks: {w: {command: ["sh", "-c", "[ $0 -ne 1 ] && [ $0 -ne 4 ] && echo $0", "{i}"]},
          sum: {command: ["cat", "{all}"]}, other: {command: ["echo", "other"]}},
  steps: [{id: "w", task: "w", foreach: {i: [range(6)]}},
          {id: "sum", task: "sum", args: {all: {path: "w"}}}, {id: "other", task: "other"}]}' >"$T/keep.json"
id=$(submit "$T/keep.json")
WAIT_TIMEOUT=120 wait_state "$id" FAILED
R=$MNT/runs/$id
S=$(rd "$R/status.json")
assert_eq "4 2 1" "$(jq -r '[.task_runs[] | select(.task == "w")] | "\(map(select(.state == "SUCCEEDED")) | length) \(map(select(.state == "FAILED")) | length)"' <<<"$S") $(jq '[.task_runs[] | select(.id == "other" and .state == "SUCCEEDED")] | length' <<<"$S")" \
	"SUCCEEDED and FAILED copies of w, and other"
assert_eq TERMINATED "$(rd "$R/tasks/sum/status")" "the fan-in on Slurm"
assert_match '^not run: w\.[14] failed$' "$(rd "$R/tasks/sum/message")" "the fan-in's message on Slurm"
assert_eq "$(printf 'w.1\nw.4')" "$(ls "$R/by-state/FAILED")" "by-state/FAILED on Slurm"

# A retry delay: the resubmitted job waits for its begin time.
jq -n --arg f "$SLURM_WORKDIR/starts" '{name: "delayed",
  tasks: {d: {command: ["sh", "-c", "date +%s >>\"$0\"; [ $(wc -l <\"$0\") -ge 3 ]", $f], retries: 2, retry_delay: [5, 10]}},
  steps: [{id: "d", task: "d"}]}' >"$T/delay.json"
id=$(submit "$T/delay.json")
wait_until 1200 grep -q "next attempt at" "$MNT/runs/$id/tasks/d/message" ||
	fail "the delayed task's message: $(rd "$MNT/runs/$id/tasks/d/message")"
job=$(rd "$MNT/runs/$id/tasks/d/message" | sed -n 's/.*Slurm job \([0-9]*\)).*/\1/p')
assert_match 'Reason=BeginTime' "$(scontrol show job "$job" --oneliner)" "the resubmitted job $job waits for its begin time"
WAIT_TIMEOUT=120 wait_state "$id" SUCCEEDED
gaps=$(awk 'NR > 1 {printf "%d ", $1 - prev} {prev = $1}' "$SLURM_WORKDIR/starts")
note "Slurm: gaps between attempts: $gaps"
read -r g1 g2 <<<"$gaps"
((g1 >= 5 && g2 >= 10)) || fail "the gaps between attempts on Slurm are $gaps; expected at least 5 and 10 s"
assert_eq 3 "$(rd "$MNT/runs/$id/tasks/d/attempts")" "attempts of the delayed task"

# Rerun b of a -> b -> c, side: b and c run again, nothing else.
chain_def "$T/chain.json" "$SLURM_WORKDIR/started"
id=$(submit "$T/chain.json")
WAIT_TIMEOUT=120 wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
: >"$SLURM_WORKDIR/started"
wr "$R/tasks/b/ctl" rerun || fail "rerun of b on Slurm"
wait_until 200 grep -qvx SUCCEEDED "$R/status" || true
WAIT_TIMEOUT=120 wait_state "$id" SUCCEEDED
assert_eq $'b\nc' "$(sort "$SLURM_WORKDIR/started")" "task runs the rerun of b started on Slurm"
assert_eq "1 2 2 1" "$(rd "$R/tasks/a/attempts") $(rd "$R/tasks/b/attempts") $(rd "$R/tasks/c/attempts") $(rd "$R/tasks/side/attempts")" \
	"attempts of a, b, c, side"
assert_eq "c-b-a-x" "$(rd "$R/results/0")" "the result after the rerun on Slurm"

# Delete: the record and the files in the work directory go too.
[[ -f $SLURM_WORKDIR/runs/$id/run.json ]] || fail "no record of $id in the work directory"
timeout "$TO" rm -r "$R" || fail "rm -r of a remote run"
[[ ! -e $R && ! -e $DATA/runs/$id ]] || fail "the remote run is still in the mount or the data directory"
[[ ! -e $SLURM_WORKDIR/runs/$id ]] || fail "the remote run's files stay in the work directory: $(ls "$SLURM_WORKDIR/runs/$id")"
sleep 3 # two scans of the work directory: nothing takes it up again
[[ ! -e $R ]] || fail "the deleted run came back"

# The cache on Slurm. jobs_of RUN: how many jobs Slurm was sent for it
# (finished jobs stay listed for MinJobAge, an hour).
jobs_of() { scontrol show jobs --oneliner | grep -c "JobName=$1\." || true; }
jq '.cache = true' "$T/chain.json" >"$T/cchain.json"
: >"$SLURM_WORKDIR/started"
c1=$(submit "$T/cchain.json")
WAIT_TIMEOUT=120 wait_state "$c1" SUCCEEDED
assert_eq $'a\nb\nc\nside' "$(sort "$SLURM_WORKDIR/started")" "the first cached run on Slurm starts every task"
: >"$SLURM_WORKDIR/started"
c2=$(submit "$T/cchain.json")
WAIT_TIMEOUT=120 wait_state "$c2" SUCCEEDED
assert_eq "" "$(cat "$SLURM_WORKDIR/started")" "task runs an unchanged cached run started on Slurm"
assert_eq 0 "$(jobs_of "$c2")" "jobs sent to Slurm for a run of hits only ($(jobs_of "$c1") for the first)"
assert_eq "4/4 SUCCEEDED (4 cached)" "$(rd "$MNT/runs/$c2/progress")" "progress of the cached run on Slurm"
assert_eq "c-b-a-x" "$(rd "$MNT/runs/$c2/results/0")" "the cached run's result on Slurm"
assert_eq "0 ../../../$c1/tasks/b" "$(rd "$MNT/runs/$c2/tasks/b/attempts") $(readlink "$MNT/runs/$c2/tasks/b/cached_from")" \
	"a hit's attempts and cached_from on Slurm"
assert_eq "b-a-x" "$(rd "$MNT/runs/$c2/tasks/b/stdout")" "a hit's stdout on Slurm"
# A changed input: that task misses; its dependants' inputs are known
# only once its job has run, so they are sent to Slurm too, and kept.
jq '(.steps[] | select(.id == "a") | .args.in) = "x2"' "$T/cchain.json" >"$T/cchain2.json"
c3=$(submit "$T/cchain2.json")
WAIT_TIMEOUT=120 wait_state "$c3" SUCCEEDED
assert_eq $'a\nb\nc' "$(sort "$SLURM_WORKDIR/started")" "task runs a changed first step started on Slurm"
assert_eq 3 "$(jobs_of "$c3")" "jobs sent for a changed first step"
assert_eq "1 0" "$(rd "$MNT/runs/$c3/tasks/a/attempts") $(rd "$MNT/runs/$c3/tasks/side/attempts")" \
	"attempts of a (it ran) and side (a hit)"
: >"$SLURM_WORKDIR/started"
c4=$(submit "$T/cchain2.json")
WAIT_TIMEOUT=120 wait_state "$c4" SUCCEEDED
assert_eq "0 c-b-a-x2" "$(jobs_of "$c4") $(rd "$MNT/runs/$c4/results/0")" "jobs and result of the changed run again"
stop_runfs
check_stderr
