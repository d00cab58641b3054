#!/usr/bin/env bash
# The pollwait tool (tests/tools/pollwait.c) itself, and a first use on the
# mount. Whether poll() on status wakes on a change is issue 3's to test.
. "$(dirname "$0")/lib.sh"

[[ -x $POLLWAIT ]] || fail "POLLWAIT=$POLLWAIT is not an executable"

# A regular file is always readable: it prints the content, wakes at once,
# prints it again and exits 0.
printf 'one\n' >"$T/plain"
out=$(timeout "$TO" "$POLLWAIT" "$T/plain" 1000)
assert_eq "one
one" "$out" "pollwait on a regular file"

# Errors exit 2.
rc=0
timeout "$TO" "$POLLWAIT" "$T/missing" 100 2>/dev/null || rc=$?
assert_eq 2 "$rc" "pollwait on a missing file"
rc=0
timeout "$TO" "$POLLWAIT" "$T/plain" 2>/dev/null || rc=$?
assert_eq 2 "$rc" "pollwait without a timeout"
rc=0
timeout "$TO" "$POLLWAIT" "$T/plain" soon 2>/dev/null || rc=$?
assert_eq 2 "$rc" "pollwait with a bad timeout"

# On the mount: the first read shows the state; the exit is a wake-up (0)
# or a timeout (1), never an error.
start_runfs in_process
id=$(submit "$SRCDIR/examples/hello.json")
wait_state "$id" SUCCEEDED
rc=0
out=$(timeout "$TO" "$POLLWAIT" "$MNT/runs/$id/status" 200) || rc=$?
[[ $rc == 0 || $rc == 1 ]] || fail "pollwait on status exited $rc"
assert_eq SUCCEEDED "$(head -n 1 <<<"$out")" "pollwait's first read of status"
