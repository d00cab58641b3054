#!/usr/bin/env bash
# Faults, and nothing lost to them:
#   1. the store locked by another process: reads keep answering, a submit
#      is refused with EAGAIN and says why, and a task run that ended
#      meanwhile is recorded once the lock is gone;
#   2. the data directory full (a small tmpfs): a task whose stdout could
#      not be kept fails and says so, a submit is refused with ENOSPC, what
#      was recorded before reads the same, and all is recorded once there
#      is room again, also after a remount;
#   3. a task that prints FAULT_BIG_MB MiB (default 256; scripts/soak: 5 GiB):
#      every byte kept, the daemon's memory bounded;
#   4. a task that forks FAULT_CHILDREN children (default 1000) and exits:
#      none is left behind.
# (kill -9 under load is in test_load; a task ignoring SIGTERM in test_stop.)
. "$(dirname "$0")/lib.sh"

BIG_MB=${FAULT_BIG_MB:-256}
CHILDREN=${FAULT_CHILDREN:-1000}
((EUID == 0)) || fail "this test mounts a tmpfs: run it as root (scripts/test does)"

# refused_submit WHERE ERROR: hello.json written into M/submit must fail
# with ERROR (strerror's text); then sets $out to the answer a reader of
# the same open file gets.
refused_submit() {
	local err
	err=$(timeout 20 sh -c 'cat "$1" >"$2"' sh "$SRCDIR/examples/hello.json" "$MNT/submit" 2>&1) &&
		fail "a submit into $1 succeeded"
	assert_contains "$err" "$2" "the write's error ($1)"
	out=$(submit_raw "$SRCDIR/examples/hello.json") || true
}

# ---------------------------------------------------------------- 1. locked

start_runfs in_process
gated_def "$T/gated.json" "$T/gate1"
id=$(submit "$T/gated.json")
wait_task_state "$id" hold RUNNING

# Another process takes the store's write lock until told to let go.
python3 - "$DATA/runfs.db" "$T/locked" "$T/unlock" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
for _ in range(600):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
db.execute("COMMIT")
PY
locker=$!
wait_until 200 test -e "$T/locked" || fail "the locking process did not take the lock"
touch "$T/gate1" # the task ends while the store is locked
gone "$T/gate1" || fail "the gated task did not end"

# Reads keep answering while the lock is held: each within 2 s.
for i in 1 2 3 4 5; do
	timeout 2 cat "$MNT/runs/$id/status" >/dev/null || fail "status read $i hung while the store was locked"
	timeout 2 ls "$MNT/runs" >/dev/null || fail "ls runs $i hung while the store was locked"
	sleep 0.1
done
# A submit waits for the lock a while, then is refused with EAGAIN.
refused_submit "a locked store" "Resource temporarily unavailable"
assert_contains "$out" "error: cannot record the run: the store is locked by another process" \
	"the submit's answer"
assert_eq 1 "$(count_entries "$MNT/runs")" "runs while locked (nothing recorded)"

touch "$T/unlock"
wait "$locker" || fail "the locking process failed"
WAIT_TIMEOUT=20 wait_state "$id" SUCCEEDED 2>/dev/null || true
ev=$(rd "$MNT/runs/$id/events")
lost=0
[[ $ev =~ $'hold SUCCEEDED\n' ]] || lost=$((lost + 1))
[[ $ev =~ $'- SUCCEEDED'$ ]] || lost=$((lost + 1))
soak "locked store: changes held while locked" 2 "$lost"
assert_eq SUCCEEDED "$STATE" "the run after the lock"
assert_match $'hold SUCCEEDED\n' "$ev" "events after the lock (the task's end)"
assert_match $'- SUCCEEDED$' "$ev" "events after the lock (the run's end)"
assert_eq 0 "$(rd "$MNT/runs/$id/tasks/hold/exit_code")" "exit_code recorded after the lock"
id2=$(submit "$SRCDIR/examples/hello.json")
wait_state "$id2" SUCCEEDED
stop_runfs
note "locked store: reads answered, submit refused with EAGAIN, the held end recorded"

# ------------------------------------------------------------ 2. disk full

DATA=$T/small
mkdir -p "$DATA"
mount -t tmpfs -o size=16m,mode=0700 tmpfs "$DATA"
at_exit "umount '$DATA' || umount -l '$DATA'"
start_runfs in_process
kept=$(submit "$SRCDIR/examples/hello.json")
wait_state "$kept" SUCCEEDED
snap() { rd "$MNT/runs/$kept/status.json" | jq -S 'del(.files)'; rd "$MNT/runs/$kept/results/0"; }
before=$(snap)
jq -n --arg g "$T/gate2" --arg tok "$TOKEN" '{
  name: "big",
  tasks: {spill: {command: ["sh", "-c",
    "while [ ! -e \"$0\" ]; do sleep 0.05; done; head -c 20000000 /dev/zero | tr \"\\\\0\" x", "{g}", $tok]}},
  steps: [{id: "spill", task: "spill", args: {g: $g}}]
}' >"$T/big.json"
big=$(submit "$T/big.json")
wait_task_state "$big" spill RUNNING
# Fill what is left; dd stops at ENOSPC.
dd if=/dev/zero of="$DATA/filler" bs=64k status=none 2>/dev/null || true
touch "$T/gate2"
refused_submit "a full data directory" "No space left on device"
assert_match '^error: cannot (make a folder for|record) the (run|definition)' "$out" \
	"the submit's answer"
assert_contains "$out" "No space left" "the submit's answer"
gone "$T/gate2" || fail "the spilling task did not end"
during=$(snap)

rm -f "$DATA/filler"
WAIT_TIMEOUT=20 wait_state "$big" FAILED 2>/dev/null || true
[[ $STATE == FAILED ]] || fail "the run whose stdout was cut short is $STATE, not FAILED"
assert_contains "$(rd "$MNT/runs/$big/tasks/spill/message")" \
	"its stdout could not be kept: No space left on device" "spill/message"
id3=$(submit "$SRCDIR/examples/hello.json")
wait_state "$id3" SUCCEEDED
stop_runfs
start_runfs in_process
after=$(snap)
lost=0
[[ $during == "$before" ]] || lost=$((lost + 1))
[[ $after == "$before" ]] || lost=$((lost + 1))
[[ $(rd "$MNT/runs/$big/status") == FAILED ]] || lost=$((lost + 1))
soak "full data directory: recorded runs, read during and after" 3 "$lost"
assert_eq "$before" "$during" "the recorded run while the disk is full"
assert_eq "$before" "$after" "the recorded run after a remount"
assert_eq FAILED "$(rd "$MNT/runs/$big/status")" "the cut-short run after a remount"
assert_eq 3 "$(count_entries "$MNT/runs")" "runs after a remount"
stop_runfs
ALLOW_STDERR+=('write task output or log' 'store: state changes not recorded')
note "full data directory: stdout cut short fails the task, submit ENOSPC, nothing recorded lost"

# ------------------------------------------------------- 3. a large output

DATA=$T/data3
# A small quarantine keeps AddressSanitizer's own memory out of the figure.
ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=4 start_runfs in_process
rss0=$(proc_kb "$RUNFS_PID" VmRSS)
jq -n --argjson mb "$BIG_MB" '{
  name: "loud",
  tasks: {loud: {command: ["sh", "-c", "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq | head -c \($mb * 1048576)"]}},
  steps: [{id: "loud", task: "loud"}]
}' >"$T/loud.json"
loud=$(submit "$T/loud.json")
WAIT_TIMEOUT=$((60 + BIG_MB / 8)) wait_state "$loud" SUCCEEDED
hwm=$(proc_kb "$RUNFS_PID" VmHWM)
size=$(timeout "$TO" stat -c %s "$MNT/runs/$loud/tasks/loud/stdout")
soak "a $BIG_MB MiB stdout (bytes)" $((BIG_MB * 1048576)) $((BIG_MB * 1048576 - size))
assert_eq $((BIG_MB * 1048576)) "$size" "the large stdout's size"
n=$(timeout 120 cat "$MNT/runs/$loud/tasks/loud/stdout" | uniq -c)
assert_eq "$((BIG_MB * 1048576 / 64)) 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq" \
	"$(xargs <<<"$n")" "the large stdout's lines"
note "a $BIG_MB MiB stdout kept whole; the daemon's RSS went from $((rss0 / 1024)) MiB to a peak of $((hwm / 1024)) MiB"
((hwm - rss0 < 64 * 1024)) || fail "the daemon grew by $(((hwm - rss0) / 1024)) MiB for a $BIG_MB MiB output"

# --------------------------------------------------- 4. a thousand children

jq -n --arg tok "$TOKEN" --argjson n "$CHILDREN" '{
  name: "brood",
  tasks: {brood: {command: ["sh", "-c", "i=0; while [ $i -lt \($n) ]; do sleep 300.$0 & i=$((i+1)); done; echo forked $i", $tok]}},
  steps: [{id: "brood", task: "brood"}],
  results: [{from: "brood"}]
}' >"$T/brood.json"
fds0=$(fd_count "$RUNFS_PID")
brood=$(submit "$T/brood.json")
WAIT_TIMEOUT=120 wait_state "$brood" SUCCEEDED
assert_eq "forked $CHILDREN" "$(rd "$MNT/runs/$brood/results/0")" "the brood's result"
gone "300.$TOKEN" || fail "children of a finished task are still running: $(pgrep -c -f "300.$TOKEN")"
soak "$CHILDREN children of an ended task (none left)" "$CHILDREN" 0
assert_eq "$fds0" "$(fd_count "$RUNFS_PID")" "the daemon's open descriptors after the brood"
stop_runfs
note "$CHILDREN children of an ended task: none left"
