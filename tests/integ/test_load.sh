#!/usr/bin/env bash
# Load, then a crash under load.
#   Rounds of LOAD_WRITERS writers submitting LOAD_RUNS runs each, while
#   LOAD_READERS readers walk the tree and LOAD_WAITERS readers block on
#   runs' wait files (scripts/soak: 16 x 100, 16 and 100; here 4 x 25, 4
#   and 20): no error anywhere, every run present and SUCCEEDED, every
#   waiter woken with the final state, and no growth of the daemon's open
#   descriptors or memory (on a build without sanitizers) from the first
#   round to the last.
#   Then (unless LOAD_CRASH=0) kill -9 of the daemon while writers submit and two
#   runs run: at
#   the next mount every run that had finished reads the same, every other
#   one is KILLED (none left WAITING or RUNNING), the store passes
#   SQLite's integrity check, and no task process is left behind.
. "$(dirname "$0")/lib.sh"

WRITERS=${LOAD_WRITERS:-4}
RUNS=${LOAD_RUNS:-25}
READERS=${LOAD_READERS:-4}
WAITERS=${LOAD_WAITERS:-20}
ROUNDS=${LOAD_ROUNDS:-2}
TEST_LIMIT=${TEST_LIMIT:-280}

# hello, with a result that names the run's writer and number.
jq -n '{
  name: "load",
  tasks: {say: {command: ["echo", "{w}", "{k}"]}, up: {command: ["tr", "a-z", "A-Z"], stdin: "{t}"}},
  steps: [{id: "say", task: "say", args: {w: "w", k: "k"}},
          {id: "up", task: "up", args: {t: {from: "say"}}}],
  results: [{from: "up"}]
}' >"$T/load.json"

# writer W ROUND: submits RUNS runs, each id on a line of $T/ids.ROUND.W;
# each failure goes to $T/err.ROUND.W (and stops the writer once the
# daemon is gone: $T/crashed).
writer() {
	local w=$1 round=$2 k out
	for ((k = 0; k < RUNS; k++)); do
		[[ -e $T/crashed ]] && return 0
		jq --arg w "w$w" --arg k "r$round.$k" '.steps[0].args = {w: $w, k: $k}' \
			"$T/load.json" >"$T/def.$w"
		if out=$(submit_raw "$T/def.$w" 2>&1) && [[ $out =~ $RUN_ID_RE ]]; then
			echo "$out" >>"$T/ids.$round.$w"
		elif [[ ! -e $T/crashed ]]; then
			echo "writer $w run $k: $out" >>"$T/err.$round.$w"
		fi
	done
}

# reader R: walks the tree until $T/stop exists. A walk of thousands of
# runs, among 16 readers and 16 writers on two cores, takes a while: its
# bound (WALK_TO) is there to catch a hang, not to time it.
WALK_TO=120
reader() {
	local r=$1 rc
	while [[ ! -e $T/stop ]]; do
		rc=0
		{
			timeout "$WALK_TO" find "$MNT/runs" -maxdepth 2 -name status -exec cat {} + >/dev/null &&
				timeout "$WALK_TO" cat "$MNT/index" >/dev/null &&
				timeout "$WALK_TO" ls -l "$MNT/by-state/SUCCEEDED" >/dev/null
		} 2>>"$T/rerr.$r" || rc=$?
		((rc == 0)) || echo "reader $r: walk failed (status $rc)" >>"$T/rerr.$r"
	done
}

# round N: one round of load; prints nothing, fails on any error.
round() {
	local n=$1 i pids=() wpids=() g
	rm -f "$T/stop"
	# Runs to wait on: one per five waiters, held by a gate.
	gated_def "$T/gated.json" "$T/gate.$n"
	: >"$T/gated.$n"
	for ((i = 0; i < (WAITERS + 4) / 5; i++)); do
		submit "$T/gated.json" >>"$T/gated.$n"
	done
	mapfile -t g <"$T/gated.$n"
	for ((i = 0; i < WAITERS; i++)); do
		timeout 120 cat "$MNT/runs/${g[i % ${#g[@]}]}/wait" >"$T/woke.$n.$i" 2>&1 &
		wpids+=($!)
	done
	for ((i = 0; i < READERS; i++)); do
		reader "$i" &
		pids+=($!)
	done
	for ((i = 0; i < WRITERS; i++)); do
		writer "$i" "$n" &
		pids+=($!)
	done
	# Writers first; then the readers are told to stop.
	for ((i = READERS; i < ${#pids[@]}; i++)); do
		wait "${pids[i]}" || fail "writer $((i - READERS)) of round $n failed"
	done
	touch "$T/stop" "$T/gate.$n"
	for ((i = 0; i < READERS; i++)); do
		wait "${pids[i]}" || fail "reader $i of round $n failed"
	done
	for ((i = 0; i < WAITERS; i++)); do
		wait "${wpids[i]}" || fail "waiter $i of round $n: $(cat "$T/woke.$n.$i")"
		assert_eq SUCCEEDED "$(cat "$T/woke.$n.$i")" "waiter $i of round $n"
	done
	for f in "$T"/err.$n.* "$T"/rerr.*; do
		if [[ -s $f ]]; then
			fail "errors under load ($f): $(head -n 5 "$f")"
		fi
	done
	cat "$T"/ids.$n.* "$T/gated.$n" >"$T/round.$n"
	wait_done "$T/round.$n" "load round $n: $WRITERS writers x $RUNS runs, $READERS readers, $WAITERS waiters"
}

# wait_done FILE CASE: every run id in FILE reaches SUCCEEDED (read from
# the index, one read for all); reports CASE to scripts/soak.
wait_done() {
	local want ok i
	want=$(sort -u "$1" | wc -l)
	assert_eq "$(wc -l <"$1")" "$want" "distinct run ids in $1"
	for ((i = 0; i < 3000; i++)); do
		ok=$(timeout "$WALK_TO" cat "$MNT/index" | awk -F'\t' 'NR == FNR { want[$1] = 1; next }
			($1 in want) && $2 == "SUCCEEDED" { n++ } END { print n + 0 }' "$1" -)
		((ok == want)) && break
		sleep 0.1
	done
	soak "$2" "$want" $((want - ok))
	((ok == want)) || fail "$ok of $want runs SUCCEEDED after 300 s"
}

# A small quarantine keeps AddressSanitizer's own memory out of the figures.
ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=4 start_runfs in_process

# A first round warms the daemon (SQLite's page cache, the kernel's
# caches, the memo); later ones must not grow it.
round 0
fds=() rss=()
for ((r = 1; r <= ROUNDS; r++)); do
	round "$r"
	fds+=("$(fd_count "$RUNFS_PID")")
	rss+=("$(proc_kb "$RUNFS_PID" VmRSS)")
	note "round $r: $((WRITERS * RUNS)) runs, $READERS readers, $WAITERS waiters; fds ${fds[-1]}, RSS $((rss[-1] / 1024)) MiB"
done
total=$(cat "$T"/round.* | wc -l)
assert_eq "$total" "$(timeout "$WALK_TO" cat "$MNT/index" | wc -l)" "runs in the index"
assert_eq "${fds[0]}" "${fds[-1]}" "the daemon's open descriptors, first round to last"
# Under AddressSanitizer the figure is its allocator's (it keeps what is
# freed); integ_test_load_plain runs this test on a build without it.
if sanitized; then
	note "sanitizer or valgrind: RSS not checked (integ_test_load_plain checks it)"
elif ((rss[-1] > rss[0] + rss[0] / 10 + 4096)); then
	fail "the daemon's RSS grew from $((rss[0] / 1024)) MiB to $((rss[-1] / 1024)) MiB over $ROUNDS rounds"
fi

# ------------------------------------------------------- kill -9 under load
# LOAD_CRASH=0 leaves it out.
if [[ ${LOAD_CRASH:-1} != 1 ]]; then
	stop_runfs
	exit 0
fi

jq -n --arg s "300.$TOKEN" '{name: "long", tasks: {long: {command: ["sleep", $s]}},
  steps: [{id: "long", task: "long"}]}' >"$T/long.json"
long1=$(submit "$T/long.json")
long2=$(submit "$T/long.json")
wait_proc "300.$TOKEN"
last=$((ROUNDS + 1))
for ((i = 0; i < WRITERS; i++)); do
	writer "$i" "$last" &
	pids+=($!)
done
# Crash once some of this round's runs are recorded.
submitted() { (($(cat "$T"/ids.$last.* 2>/dev/null | wc -l || true) >= WRITERS * 2)); }
wait_until 400 submitted || fail "no run was submitted in the last round"
# snap: the index line of every finished run, and the result of the first
# 100 of them (thousands of runs at full size: one read each would take
# minutes). The index is long then: its read has WALK_TO.
snap() {
	timeout "$WALK_TO" cat "$MNT/index" | awk -F'\t' '$2 == "SUCCEEDED"' >"$T/snap"
	cat "$T/snap"
	head -n 100 "$T/snap" | while IFS=$'\t' read -r id _; do
		printf '%s %s\n' "$id" "$(rd "$MNT/runs/$id/results/0" 2>/dev/null || echo unreadable)"
	done
}
before=$(snap)
touch "$T/crashed"
# The writers end on the dead mount's ENOTCONN before it goes.
crash_runfs keep
for ((i = ${#pids[@]} - WRITERS; i < ${#pids[@]}; i++)); do
	wait "${pids[i]}" || true
done
_unmount
[[ -z $(ls -A "$MNT") ]] || fail "writes went into the bare mount point: $(ls -A "$MNT")"
gone "300.$TOKEN" || fail "a task of the crashed daemon is still running"
python3 - "$DATA/runfs.db" <<'PY' || fail "the store failed SQLite's integrity check"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]
sys.exit(0 if r == "ok" else print(r) or 1)
PY

start_runfs in_process
after=$(snap)
# Runs that finished between the snapshot and the crash are extra, not lost.
missing=$(comm -23 <(sort <<<"$before") <(sort <<<"$after"))
soak "kill -9 under load: finished runs kept" "$(grep -c $'\t' <<<"$before")" "$(grep -c . <<<"$missing" || true)"
[[ -z $missing ]] || fail "finished runs changed by the crash: $(head -n 3 <<<"$missing")"
assert_eq KILLED "$(rd "$MNT/runs/$long1/status")" "a running run after the crash"
assert_eq KILLED "$(rd "$MNT/runs/$long2/status")" "a running run after the crash"
open=$(timeout "$WALK_TO" cat "$MNT/index" | awk -F'\t' '$2 != "SUCCEEDED" && $2 != "KILLED"')
[[ -z $open ]] || fail "runs neither finished nor KILLED after the crash: $(head -n 3 <<<"$open")"
note "crash under load: $(grep -c $'\t' <<<"$before") finished runs intact, $(timeout "$WALK_TO" cat "$MNT/index" | grep -c KILLED) KILLED"
stop_runfs
