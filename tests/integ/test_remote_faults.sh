#!/usr/bin/env bash
# The Slurm runtime against a server that misbehaves (a stand-in on
# 127.0.0.1, tests/tools/fake_slurmrestd.py): an answer that is not JSON
# and a server that never answers each end the run FAILED with a clear
# message, and the mount answers at once all the while.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$T/xdg
GOOD="good-$TOKEN-tok"
ALLOW_STDERR+=('not submitted: ')

fake() { # fake MODE NAME: starts a stand-in server and saves configuration NAME for it
	local i port
	python3 "$SRCDIR/tests/tools/fake_slurmrestd.py" 0 "$GOOD" "$1" >"$T/port.$1" 2>"$T/fake.$1.err" &
	for ((i = 0; i < 100; i++)); do
		[[ -s $T/port.$1 ]] && break
		sleep 0.05
	done
	port=$(<"$T/port.$1")
	[[ -n $port ]] || fail "the stand-in server did not start: $(cat "$T/fake.$1.err")"
	"$RUNFS" login "http://127.0.0.1:$port" --token "$GOOD" --user alice --workdir "$T/work" \
		--name "$2" >"$T/login.out" 2>&1 || fail "login: $(<"$T/login.out")"
}
fake garbage junk
fake hang stuck

start_runfs in_process

# Not JSON: FAILED at once, saying what the server answered.
jq '.config = "junk"' "$SRCDIR/examples/hello.json" >"$T/junk.json"
id=$(submit "$T/junk.json")
assert_eq FAILED "$(timeout 20 cat "$MNT/runs/$id/wait")" "a run on a server answering garbage"
assert_contains "$(rd "$MNT/runs/$id/message")" "no JSON" "its message"

# No answer: the mount answers at once while the submit waits on the
# network in the runtime's thread, and the run ends FAILED on the timeout.
jq '.config = "stuck"' "$SRCDIR/examples/hello.json" >"$T/stuck.json"
id=$(submit "$T/stuck.json")
for ((i = 0; i < 10; i++)); do
	st=$(timeout 2 cat "$MNT/runs/$id/status") || fail "status did not answer within 2 s"
	timeout 2 ls "$MNT/runs" >/dev/null || fail "ls runs did not answer within 2 s"
	assert_eq WAITING "$st" "status while the server hangs"
	sleep 0.3
done
assert_eq FAILED "$(timeout 40 cat "$MNT/runs/$id/wait")" "a run on a server that never answers"
assert_contains "$(rd "$MNT/runs/$id/message")" "timed out" "its message"
stop_runfs
