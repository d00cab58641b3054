#!/usr/bin/env bash
# The Slurm runtime against a server that misbehaves (a stand-in on
# 127.0.0.1, tests/tools/fake_slurmrestd.py): an answer that is not JSON,
# a server that never answers, one that refuses the request (401), and an
# https server whose certificate nobody signed each end the run FAILED with
# a clear message, while the mount answers at once; jobs that Slurm no
# longer knows (purged) leave their task runs and the run UNKNOWN.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$T/xdg
GOOD="good-$TOKEN-tok"
ALLOW_STDERR+=('not submitted: ')

fake() { # fake MODE NAME [CERT KEY]: starts a stand-in server, saves configuration NAME for it
	local i port scheme=http
	python3 "$SRCDIR/tests/tools/fake_slurmrestd.py" 0 "$GOOD" "$1" "${@:3}" >"$T/port.$1" \
		2>"$T/fake.$1.err" &
	wait_until 100 test -s "$T/port.$1" || true
	port=$(<"$T/port.$1")
	[[ -n $port ]] || fail "the stand-in server did not start: $(cat "$T/fake.$1.err")"
	[[ $# -gt 2 ]] && scheme=https
	"$RUNFS" login "$scheme://127.0.0.1:$port" --token "$GOOD" --user alice --workdir "$T/work" \
		--name "$2" >"$T/login.out" 2>&1 || fail "login: $(<"$T/login.out")"
}
# run_on CONFIG: submits hello on CONFIG; prints the run id.
run_on() {
	jq --arg c "$1" '.config = $c' "$SRCDIR/examples/hello.json" >"$T/$1.json"
	submit "$T/$1.json"
}
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
fake garbage junk
fake hang stuck
fake noauth locked
fake purge purged
fake tls selfsigned "$T/cert.pem" "$T/key.pem"
assert_contains "$(<"$T/login.out")" "certificate" "login to a server whose certificate nobody signed"

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

# 401: the server wants a user and a token.
id=$(run_on locked)
assert_eq FAILED "$(timeout 20 cat "$MNT/runs/$id/wait")" "a run on a server answering 401"
assert_contains "$(rd "$MNT/runs/$id/message")" "HTTP 401" "its message"
assert_contains "$(rd "$MNT/runs/$id/message")" "runfs login" "its message"

# TLS is verified: a certificate nobody signed is refused.
id=$(run_on selfsigned)
assert_eq FAILED "$(timeout 20 cat "$MNT/runs/$id/wait")" "a run on a server with a self-signed certificate"
assert_contains "$(rd "$MNT/runs/$id/message")" "certificate" "its message"

# Purged: the jobs were taken, but Slurm lists none of them.
id=$(run_on purged)
WAIT_TIMEOUT=20 wait_state "$id" UNKNOWN
assert_eq UNKNOWN "$(rd "$MNT/runs/$id/tasks/greet/status")" "a task run whose job was purged"
assert_contains "$(rd "$MNT/runs/$id/tasks/greet/message")" "purged" "its message"
stop_runfs
