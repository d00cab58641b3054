#!/usr/bin/env bash
# Slurm's own words, on the real single-node Slurm (scripts/slurm-up): a
# job Slurm kills for its time limit ends its task run FAILED with Slurm's
# reason in message, and the job's own output (slurmstepd's notice) in
# tasks/<t>/system; a job array keeps one system file per copy; a job that
# ends well leaves its system file empty. A GPU and disk request reach
# the job. Takes a minute and more: Slurm's
# time limits are whole minutes.
. "$(dirname "$0")/lib.sh"

slurm_lab
start_runfs lab

jq -n --arg tok "$TOKEN" '{
  name: "limits",
  tasks: {long: {command: ["sh", "-c", "echo started; exec sleep 300", $tok], timeout: 1},
          quick: {command: ["echo", "{n}"]}},
  steps: [{id: "long", task: "long"}, {id: "quick", task: "quick", foreach: {n: [1, 2]}}]
}' >"$T/limits.json"
# A GPU and temporary disk reach Slurm as the job's requests (scripts/slurm-up
# gives the node two GPUs and temporary disk).
jq -n '{name: "gpu", tasks: {t: {command: ["true"], resources: {gpu: 1, disk: "100Mi"}}},
  steps: [{id: "t", task: "t"}]}' >"$T/gpu.json"
gid=$(submit "$T/gpu.json")
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$gid/wait")" "a GPU task on Slurm"
job=$(scontrol show job --oneliner | grep -F "JobName=$gid.t " || true)
[[ -n $job ]] || fail "no Slurm job named $gid.t"
note "the GPU job: $(grep -oE '(TresPerNode|Gres|MinTmpDiskNode)=[^ ]*' <<<"$job" | tr '\n' ' ')"
assert_match 'TresPerNode=gres:gpu:1' "$job" "the job's GPU request"
assert_match 'MinTmpDiskNode=100M' "$job" "the job's temporary disk request"
id=$(submit "$T/limits.json")
R=$MNT/runs/$id
wait_task_state "$id" quick.1 SUCCEEDED
for k in 0 1; do
	[[ -e $SLURM_WORKDIR/runs/$id/logs.d/quick.$k.system ]] || fail "no system file for quick.$k"
	assert_eq "" "$(rd "$R/tasks/quick.$k/system")" "quick.$k's system: a job that ended well"
done

WAIT_TIMEOUT=240 wait_task_state "$id" long FAILED
msg=$(rd "$R/tasks/long/message")
note "long's message: $msg"
assert_contains "$msg" "time limit reached" "long's message"
assert_contains "$msg" "TIMEOUT" "long's message"
assert_contains "$(rd "$R/tasks/long/system")" "DUE TO TIME LIMIT" "long's system"
assert_eq "started" "$(rd "$R/tasks/long/stdout")" "long's stdout"
assert_eq FAILED "$(timeout 30 cat "$R/wait")" "the run"
assert_contains "$(rd "$R/message")" "time limit reached" "the run's message"
stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
