#!/usr/bin/env bash
# The remote runtime against the real single-node Slurm that scripts/test
# brings up (scripts/slurm-up; its env file is in $SLURM_DIR): the
# examples (hello, a fan-out of 100, failing, whose dependant never runs),
# stop mid-run leaving no job in the queue, unmount and remount during a
# run, and a bad token. Files are read from the work directory, which is
# visible here.
. "$(dirname "$0")/lib.sh"

SLURM_DIR=${SLURM_DIR:-/tmp/runfs-slurm}
[[ -r $SLURM_DIR/env ]] || fail "no Slurm: run scripts/slurm-up (scripts/test does)"
# shellcheck disable=SC1091
. "$SLURM_DIR/env"
export XDG_CONFIG_HOME=$T/config
# A folder of its own: mounts list every run recorded in a work directory.
WORK=$SLURM_WORKDIR/${T##*/}
mkdir -p "$WORK"
at_exit "rm -rf --one-file-system $(_q "$WORK")"

"$RUNFS" login "$SLURM_REST_URL" --token "$SLURM_JWT" --user "$SLURM_REST_USER" \
	--workdir "$WORK" --partition debug --account runfs-ci --name ci >"$T/login.out" 2>&1 ||
	fail "runfs login: $(<"$T/login.out")"
assert_contains "$(<"$T/login.out")" "accepted the token" "runfs login"

on_ci() { # on_ci FILE: the definition in FILE with "config": "ci"
	jq '.config = "ci"' "$1" >"$T/$(basename "$1")"
	echo "$T/$(basename "$1")"
}
queued() { # the jobs Slurm still has pending or running, with this run's id
	squeue -h -o '%j' | grep -c -- "$1" || true
}

start_runfs in_process

# 1. hello
id=$(submit "$(on_ci "$SRCDIR/examples/hello.json")")
R=$MNT/runs/$id
assert_eq ci "$(rd "$R/config")" "config of the run"
assert_eq SUCCEEDED "$(timeout 60 cat "$R/wait")" "hello on Slurm"
assert_eq "HELLO, WORLD!" "$(rd "$R/results/0")" "hello's first result"
assert_match "^14 $WORK/runs/$id/" "$(rd "$R/results/1")" "hello's second result"
assert_contains "$(rd "$R/logs")" "greet | Hello, world!" "hello's logs"
assert_eq "Hello, world!" "$(rd "$R/tasks/greet/stdout")" "greet's stdout"
assert_eq 0 "$(rd "$R/tasks/size/exit_code")" "size's exit code"
assert_contains "$(rd "$R/events")" " - SUCCEEDED" "hello's events"

# 2. a fan-out of 100 and its sum
id=$(submit "$(on_ci "$SRCDIR/examples/fanout.json")")
assert_eq SUCCEEDED "$(timeout 120 cat "$MNT/runs/$id/wait")" "fanout on Slurm"
assert_eq "100 338350" "$(rd "$MNT/runs/$id/results/0")" "fanout's result"
assert_eq 101 "$(json "$MNT/runs/$id/status.json" '.tasks.SUCCEEDED')" "fanout's succeeded task runs"
# One job array for the 100 copies, and one listing per refresh: the REST
# calls so far (all runs of this mount) stay far below one per task run.
wait_until 100 grep -q "run $id: no job of it is left" "$RUNFS_LOG" || true
calls=$(sed -n "s/.*run $id: no job of it is left on Slurm (\([0-9]*\) REST calls.*/\1/p" "$RUNFS_LOG")
[[ -n $calls ]] || fail "the daemon did not log the REST calls of $id"
((calls < 40)) || fail "the fan-out took $calls REST calls; one job array and a listing per refresh need far fewer"
note "REST calls after hello and a fan-out of 100: $calls"

# 3. failing: exit 3 is FAILED with exit_code 3; the dependant never runs.
id=$(submit "$(on_ci "$SRCDIR/examples/failing.json")")
R=$MNT/runs/$id
assert_eq FAILED "$(timeout 60 cat "$R/wait")" "failing on Slurm"
assert_eq 3 "$(rd "$R/tasks/check/exit_code")" "check's exit code"
assert_eq "input is missing" "$(rd "$R/tasks/check/stderr")" "check's stderr"
assert_contains "$(rd "$R/message")" "check" "the failed run's message"
wait_until 100 eval '[[ $(queued "$id") == 0 ]]' || true
assert_eq 0 "$(queued "$id")" "jobs of the failed run left in the queue"
assert_eq WAITING "$(rd "$R/tasks/report/status")" "the dependant of the failed task"
assert_eq 0 "$(rd "$R/tasks/report/attempts" 2>/dev/null || echo 0)" "the dependant's attempts"

# 3b. retries: the first attempt fails, the second succeeds, and the
# dependant (cancelled by Slurm with the first) runs once after it.
jq -n --arg m "$T/flaky.once" '{
  name: "flaky", config: "ci",
  tasks: {flaky: {command: ["sh", "-c", "[ -e \"$0\" ] || { touch \"$0\"; echo first >&2; exit 1; }; echo ok", "{m}"], retries: 1},
          next: {command: ["tr", "a-z", "A-Z"], stdin: "{x}"}},
  steps: [{id: "flaky", task: "flaky", args: {m: $m}},
          {id: "next", task: "next", args: {x: {from: "flaky"}}}],
  results: [{from: "next"}]
}' >"$T/flaky.json"
id=$(submit "$T/flaky.json")
R=$MNT/runs/$id
assert_eq SUCCEEDED "$(timeout 60 cat "$R/wait")" "a run whose task succeeded on its retry"
assert_eq OK "$(rd "$R/results/0")" "its result"
assert_eq 2 "$(rd "$R/tasks/flaky/attempts")" "attempts of the retried task"
assert_eq 1 "$(rd "$R/tasks/next/attempts")" "attempts of its dependant"
assert_contains "$(rd "$R/tasks/flaky/logs")" "first" "the retried task's logs keep the first attempt"

# 4. stop and kill mid-run: every job cancelled, the run TERMINATED. The
# task's resources reach Slurm as cpus, memory and time limit, and the
# configuration's partition and account too.
jq -n --arg tok "$TOKEN" '{
  name: "slow", config: "ci",
  tasks: {nap: {command: ["sleep", "300", $tok], resources: {cpu: 1, memory: "64Mi"}, timeout: 90},
          after: {command: ["true", "{x}"]}},
  steps: [{id: "nap", task: "nap"}, {id: "after", task: "after", args: {x: {from: "nap"}}}]
}' >"$T/slow.json"
for verb in stop kill; do
	id=$(submit "$T/slow.json")
	R=$MNT/runs/$id
	WAIT_TIMEOUT=60 wait_task_state "$id" nap RUNNING
	job=$(squeue -h -o '%i %j' | awk -v n="$id.nap" '$2 == n {print $1}')
	[[ -n $job ]] || fail "$verb: no Slurm job named $id.nap"
	assert_eq "1 64M 2:00 debug runfs-ci" "$(squeue -h -j "$job" -o '%C %m %l %P %a')" \
		"$verb: cpus, memory, time limit, partition and account of the job"
	wr "$R/ctl" "$verb" || fail "$verb failed"
	assert_eq TERMINATED "$(timeout 60 cat "$R/wait")" "the run after $verb"
	wait_until 200 eval '[[ $(queued "$id") == 0 ]]' || true
	assert_eq 0 "$(queued "$id")" "jobs left in the queue after $verb"
	gone "$TOKEN" || fail "$verb: the job's sleep is still running"
done

# 5. unmount and remount during a run: the next mount tracks it to its end.
jq -n --arg g "$T/gate" '{
  name: "gated", config: "ci",
  tasks: {hold: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.1; done; echo out", "{g}"]}},
  steps: [{id: "hold", task: "hold", args: {g: $g}}], results: [{from: "hold"}]
}' >"$T/gated.json"
id=$(submit "$T/gated.json")
WAIT_TIMEOUT=60 wait_task_state "$id" hold RUNNING
stop_runfs
touch "$T/gate"
start_runfs in_process
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id/wait")" "a run across a remount"
assert_eq out "$(rd "$MNT/runs/$id/results/0")" "its result"

# 6. slurmrestd stopped mid-run and started again: the mount answers at
# once throughout, says the state is stale, and tracks the run to its end.
rm -f "$T/gate"
id=$(submit "$T/gated.json")
R=$MNT/runs/$id
WAIT_TIMEOUT=60 wait_task_state "$id" hold RUNNING
rest_pid=$(<"$SLURM_DIR/run/slurmrestd.pid")
kill "$rest_pid"
_wait_gone "$rest_pid" 100 || true
ALLOW_STDERR+=('slurm ci: cannot reach')
for ((i = 0; i < 60; i++)); do
	msg=$(timeout 2 cat "$R/message") || fail "the mount did not answer within 2 s while slurmrestd was down"
	[[ $msg == *"last refresh"* ]] && break
	sleep 0.1
done
assert_contains "$msg" "cannot reach" "message while slurmrestd is down"
assert_eq RUNNING "$(timeout 2 cat "$R/status")" "status while slurmrestd is down"
touch "$T/gate"
sleep 1
SLURM_DIR=$SLURM_DIR "$SRCDIR/scripts/slurm-up" 2>"$T/slurm-up.out" || fail "slurm-up: $(<"$T/slurm-up.out")"
assert_eq SUCCEEDED "$(timeout 60 cat "$R/wait")" "the run after slurmrestd came back"
assert_eq "" "$(rd "$R/message")" "its message once refreshed"

# 7. a work directory this machine cannot see: the files say so in one line.
FAR=$T/far
mkdir -p "$FAR"
"$RUNFS" login "$SLURM_REST_URL" --token "$SLURM_JWT" --user "$SLURM_REST_USER" \
	--workdir "$FAR" --partition debug --name far >/dev/null 2>&1 || fail "runfs login (far)"
jq '.config = "far"' "$SRCDIR/examples/hello.json" >"$T/far.json"
id=$(submit "$T/far.json")
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id/wait")" "hello on the far work directory"
mv "$FAR" "$T/far.hidden"
line=$(rd "$MNT/runs/$id/tasks/greet/stdout")
assert_contains "$line" "not visible on this machine" "greet's stdout with the work directory out of sight"
assert_contains "$line" "$FAR" "greet's stdout with the work directory out of sight"
assert_eq 1 "$(rd "$MNT/runs/$id/logs" | wc -l)" "lines of logs with the work directory out of sight"
assert_eq "$(timeout "$TO" stat -c %s "$MNT/runs/$id/logs")" "$(rd "$MNT/runs/$id/logs" | wc -c)" "size of logs out of sight"
assert_contains "$(rd "$MNT/runs/$id/results/0")" "not visible on this machine" "results/0 out of sight"
mv "$T/far.hidden" "$FAR"

# 8. the API version is a setting: one this slurmrestd does not serve
# (it loads only v0.0.38) reaches it, and fails plainly.
"$RUNFS" login "$SLURM_REST_URL" --token "$SLURM_JWT" --user "$SLURM_REST_USER" \
	--workdir "$WORK" --api-version v0.0.37 --name old >/dev/null 2>&1 || fail "runfs login (old)"
jq '.config = "old"' "$SRCDIR/examples/hello.json" >"$T/old.json"
id=$(submit "$T/old.json")
assert_eq FAILED "$(timeout 30 cat "$MNT/runs/$id/wait")" "a run on an API version the server lacks"
assert_contains "$(rd "$MNT/runs/$id/message")" "HTTP 404" "its message"
ALLOW_STDERR+=('not submitted: .*HTTP 404')

# 9. a bad token: the run fails at once, saying so; the token shows nowhere.
ALLOW_STDERR+=('not submitted: .* rejected the token')
bad=not-a-token-$TOKEN
jq --arg t "$bad" '.configs.ci.token = $t' "$XDG_CONFIG_HOME/runfs/config.json" >"$T/c.json"
cp "$T/c.json" "$XDG_CONFIG_HOME/runfs/config.json"
id=$(submit "$(on_ci "$SRCDIR/examples/hello.json")")
assert_eq FAILED "$(timeout 30 cat "$MNT/runs/$id/wait")" "a run with a bad token"
assert_contains "$(rd "$MNT/runs/$id/message")" "token" "message of the run with a bad token"
assert_contains "$(rd "$MNT/runs/$id/message")" "runfs login" "message of the run with a bad token"
grep -rqF -- "$bad" "$MNT/runs/$id/" "${RUNFS_LOGS[@]}" 2>/dev/null && fail "the token shows in a file or log"
stop_runfs
