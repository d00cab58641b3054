#!/usr/bin/env bash
# runs/<id>/wait: 200 readers block at once without holding the daemon's
# threads (ls, cat and submit still answer), an interrupted reader is
# forgotten, every reader gets the final state when the run ends, and a
# read on a completed run returns at once.
. "$(dirname "$0")/lib.sh"

gate=$T/gate
def=$T/gated.json
gated_def "$def" "$gate"

start_runfs in_process
id=$(submit "$def")
R=$MNT/runs/$id
wait_task_state "$id" hold RUNNING

# 200 blocked readers.
for ((i = 0; i < 200; i++)); do
	timeout 60 cat "$R/wait" >"$T/w.$i" 2>"$T/w.$i.err" &
	pids+=($!)
done
sleep 1
done_early=0
for p in "${pids[@]}"; do
	_alive "$p" || done_early=$((done_early + 1))
done
assert_eq 0 "$done_early" "wait readers that returned before the run ended"

# The daemon still answers everything else promptly.
assert_eq RUNNING "$(rd "$R/status")" "status while 200 readers wait"
timeout 5 ls "$MNT/runs" >/dev/null || fail "ls runs/ did not answer while readers wait"
other=$(submit "$SRCDIR/examples/hello.json")
wait_state "$other" SUCCEEDED

# Ctrl-C on a blocked reader interrupts it; the daemon forgets it.
timeout -s INT 1 cat "$R/wait" >"$T/int.out" 2>&1 &
ipid=$!
rc=0
wait "$ipid" || rc=$?
assert_eq 124 "$rc" "an interrupted wait reader's exit (timeout's 124)"
assert_eq "" "$(cat "$T/int.out")" "what the interrupted reader printed"

# Open the gate: every reader gets the final state.
touch "$gate"
wait_state "$id" SUCCEEDED
for p in "${pids[@]}"; do
	wait "$p" || fail "a wait reader exited with status $?"
done
for ((i = 0; i < 200; i++)); do
	[[ $(<"$T/w.$i") == SUCCEEDED ]] || fail "reader $i got $(_q "$(<"$T/w.$i")") $(<"$T/w.$i.err")"
done

# On a completed run a read returns at once, and reads as a plain file.
assert_eq SUCCEEDED "$(timeout 2 cat "$R/wait")" "wait on a completed run"
assert_eq 10 "$(timeout 2 cat "$R/wait" | wc -c)" "wait's bytes"

# The interrupted reader above was forgotten: the daemon says so, with
# the count of reads still blocked then (the 200, not 201).
assert_contains "$(cat "$RUNFS_LOG")" "a blocked read was interrupted and is forgotten (200 still wait)" \
	"the daemon's log"
