#!/usr/bin/env bash
# The CLI: login (the token checked against a server on 127.0.0.1 when it
# answers, saved either way), config list/show/rm/default, eight logins at
# once losing nothing, submit and runs through a mount, usage errors; and
# the token found nowhere: not in the mount, the log or any output.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$T/xdg
GOOD="good-$TOKEN-tok"
BAD="bad-$TOKEN-tok"
OUT=$T/all-output
: >"$OUT"
run() { # run CMD...: runs runfs CMD, keeps its output for the token search
	local rc=0
	timeout 30 "$RUNFS" "$@" >"$T/out" 2>&1 || rc=$?
	cat "$T/out" >>"$OUT"
	cat "$T/out"
	return "$rc"
}

# Its command line carries $TOKEN: the EXIT trap of lib.sh ends it.
python3 "$SRCDIR/tests/tools/fake_slurmrestd.py" 0 "$GOOD" >"$T/port" 2>"$T/fake.err" &
FAKE=$!
wait_until 100 test -s "$T/port" || true
port=$(<"$T/port")
[[ -n $port ]] || fail "the fake server did not start: $(cat "$T/fake.err")"

out=$(run login "http://127.0.0.1:$port" --token "$GOOD" --user alice --name good) || fail "login: $out"
assert_contains "$out" "the server accepted the token" "login with a good token"
assert_contains "$out" "saved configuration good" "login saves"
out=$(run login "http://127.0.0.1:$port" --token "$BAD" --name bad) || fail "login: $out"
assert_contains "$out" "rejected the token" "login with a bad token"
assert_contains "$out" "saved configuration bad" "a rejected token is saved anyway"
out=$(run login "http://127.0.0.1:1" --token "$GOOD") || fail "login: $out"
assert_contains "$out" "cannot reach" "login to a server that is down"
assert_contains "$out" "saved configuration 127" "named after the host's first label"

# Eight logins at once: none lost.
for ((i = 0; i < 8; i++)); do
	timeout 30 "$RUNFS" login "http://127.0.0.1:1" --token "$GOOD" --name "p$i" >>"$OUT" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent login failed"; done
list=$(run config list)
for ((i = 0; i < 8; i++)); do
	assert_contains "$list" " p$i " "config list after eight logins"
done
assert_contains "$(run config show good)" '"token": "***"' "config show masks the token"
assert_contains "$(run config show good)" '"user": "alice"' "config show"
assert_eq in_process "$(run config default)" "config default"
run config default good >/dev/null || fail "config default good failed"
assert_eq good "$(run config default)" "config default after setting it"
run config default in_process >/dev/null
run config rm p0 >/dev/null || fail "config rm p0 failed"
assert_not_contains "$(run config list)" " p0 " "config list after rm"
rc=0
run config rm p0 >/dev/null || rc=$?
assert_eq 1 "$rc" "config rm of an unknown configuration"
rc=0
run config rm local >/dev/null || rc=$?
assert_eq 1 "$rc" "config rm of a built-in"

# Usage errors: exit 2, one line and the usage.
for args in "config" "config frob" "login" "submit" "runs --limit x" "runs --max-age 3x" "watch"; do
	rc=0
	# shellcheck disable=SC2086
	out=$(run $args) || rc=$?
	assert_eq 2 "$rc" "runfs $args"
	assert_contains "$out" "usage: runfs" "runfs $args"
done

# submit and runs through the mount (a mount shows the saved ones too).
start_runfs in_process
assert_contains "$(timeout 10 ls "$MNT/configs")" "good" "the mount lists configurations saved by login"
id=$(run submit "$SRCDIR/examples/hello.json" --mount "$MNT") || fail "runfs submit: $id"
assert_match "$RUN_ID_RE" "$id" "runfs submit prints the id"
wait_state "$id" SUCCEEDED
id2=$(run submit "$SRCDIR/examples/failing.json" --mount "$MNT") || fail "runfs submit: $id2"
wait_state "$id2" FAILED
rc=0
out=$(run submit "$SRCDIR/examples/hello.json" --config nowhere --mount "$MNT") || rc=$?
assert_eq 1 "$rc" "submit to an unknown configuration"
assert_contains "$out" 'unknown configuration "nowhere"' "its message"
all=$(run runs --mount "$MNT")
assert_contains "$all" "$id" "runs lists the first run"
assert_contains "$all" "$id2" "runs lists the second run"
assert_eq "$id2" "$(run runs --mount "$MNT" --limit 1 | awk 'NR == 2 {print $1}')" "runs --limit 1: the newest"
assert_eq "$id2" "$(run runs --mount "$MNT" --state FAILED | awk 'NR > 1 {print $1}')" "runs --state FAILED"
assert_eq "$id" "$(run runs --mount "$MNT" --state SUCCEEDED --max-age 1h | awk 'NR > 1 {print $1}')" "runs --state --max-age"

# The token is nowhere.
for tok in "$GOOD" "$BAD"; do
	if grep -r -- "$tok" "$MNT/configs" "$RUNFS_LOG" "$OUT" 2>/dev/null; then
		fail "a token shows in the mount, the log or a command's output"
	fi
done
