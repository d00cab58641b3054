#!/usr/bin/env bash
# Deleting runs: rm -r, rmdir, find -delete, shutil.rmtree, runfs rm and
# runfs prune (--dry-run first) remove ended runs, their files in the data
# directory and their rows, and the store gives the space back; a run not
# ended answers EBUSY; nothing else is removable. A delete cut short by
# kill -9 leaves the run whole or, after the next start, gone.
. "$(dirname "$0")/lib.sh"

start_runfs in_process
hello=$SRCDIR/examples/hello.json
ids=()
for _ in $(seq 12); do ids+=("$(submit "$hello")"); done
for id in "${ids[@]}"; do wait_state "$id" SUCCEEDED; done
jq -n '{name: "long", tasks: {l: {command: ["sleep", "60"]}}, steps: [{id: "l", task: "l"}]}' >"$T/long.json"
long=$(submit "$T/long.json")
wait_state "$long" RUNNING

sql() { # sql DB STATEMENT: the first column of the first row
	python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print(r[0] if r else "")' "$@"
}

gone() { # gone ID HOW: the run is nowhere: tree, index, data directory
	[[ ! -e $MNT/runs/$1 ]] || fail "$2: runs/$1 still exists"
	! rd "$MNT/index" | grep -q "^$1	" || fail "$2: $1 is still in the index"
	[[ ! -e $DATA/runs/$1 ]] || fail "$2: $DATA/runs/$1 still exists"
}

# rm -r and rmdir of an ended run.
timeout "$TO" rm -r "$MNT/runs/${ids[0]}" || fail "rm -r of an ended run"
gone "${ids[0]}" "rm -r"
timeout "$TO" rmdir "$MNT/runs/${ids[1]}" || fail "rmdir of an ended run"
gone "${ids[1]}" "rmdir"
timeout "$TO" find "$MNT/runs/${ids[2]}" -delete || fail "find -delete of an ended run"
gone "${ids[2]}" "find -delete"
timeout "$TO" python3 -c 'import shutil, sys; shutil.rmtree(sys.argv[1])' "$MNT/runs/${ids[3]}" ||
	fail "shutil.rmtree of an ended run"
gone "${ids[3]}" "shutil.rmtree"

# A running run: EBUSY, and it runs on whole.
out=$(timeout "$TO" rmdir "$MNT/runs/$long" 2>&1) && fail "rmdir of a running run succeeded"
assert_contains "$out" "Device or resource busy" "rmdir of a running run"
out=$(timeout "$TO" rm -r "$MNT/runs/$long" 2>&1) && fail "rm -r of a running run succeeded"
assert_contains "$out" "Device or resource busy" "rm -r of a running run"
assert_eq RUNNING "$(rd "$MNT/runs/$long/status")" "the running run after rm -r"
out=$("$RUNFS" rm "$long" 2>&1) && fail "runfs rm of a running run succeeded"
assert_contains "$out" "is RUNNING: stop it first" "runfs rm of a running run"

# Nothing else is removable.
for p in index submit by-state/SUCCEEDED "runs/${ids[4]}/../../index"; do
	out=$(timeout "$TO" rm -rf "$MNT/$p" 2>&1) && fail "rm -rf $p succeeded"
	assert_contains "$out" "Operation not permitted" "rm -rf $p"
done

# runfs rm.
out=$(timeout "$TO" "$RUNFS" rm "${ids[4]}" "${ids[5]}")
assert_eq "removed ${ids[4]}"$'\n'"removed ${ids[5]}" "$out" "runfs rm of two runs"
gone "${ids[4]}" "runfs rm"
gone "${ids[5]}" "runfs rm"
out=$("$RUNFS" rm wf.nope.0000000 2>&1) && fail "runfs rm of an unknown run succeeded"
assert_contains "$out" "no runfs mount has it" "runfs rm of an unknown run"

# prune: a FAILED run, --state, --keep, --dry-run.
jq -n '{name: "bad", tasks: {b: {command: ["false"]}}, steps: [{id: "b", task: "b"}]}' >"$T/bad.json"
bad=$(submit "$T/bad.json")
wait_state "$bad" FAILED
left=("${ids[@]:6}") # six SUCCEEDED runs, oldest first
out=$(timeout "$TO" "$RUNFS" prune --mount "$MNT" --state FAILED --dry-run 2>/dev/null)
assert_eq "would remove $bad (FAILED)" "$out" "prune --state FAILED --dry-run"
[[ -d $MNT/runs/$bad ]] || fail "a dry run removed $bad"
out=$(timeout "$TO" "$RUNFS" prune --mount "$MNT" --keep 2 --dry-run 2>/dev/null)
# The newest two ended runs stay: bad and the newest SUCCEEDED one.
expect=""
for ((i = ${#left[@]} - 2; i >= 0; i--)); do
	expect+="${expect:+$'\n'}would remove ${left[i]} (SUCCEEDED)"
done
assert_eq "$expect" "$out" "prune --keep 2 --dry-run"
for id in "${left[@]}"; do [[ -d $MNT/runs/$id ]] || fail "a dry run removed $id"; done
before_db=$(stat -c %s "$DATA/runfs.db")
before_du=$(du -sb "$DATA/runs" | cut -f1)
timeout "$TO" "$RUNFS" prune --mount "$MNT" --keep 2 >"$T/prune.out" 2>&1 || fail "prune --keep 2: $(cat "$T/prune.out")"
assert_eq "$((${#left[@]} - 1))" "$(grep -c "^removed " "$T/prune.out")" "runs prune removed: $(cat "$T/prune.out")"
for ((i = 0; i < ${#left[@]} - 1; i++)); do gone "${left[i]}" "prune"; done
assert_eq "$(printf '%s\n' "$bad" "${left[-1]}" "$long" | sort)" "$(ls "$MNT/runs")" "runs left after prune"
after_du=$(du -sb "$DATA/runs" | cut -f1)
((after_du < before_du)) || fail "the runs in the data directory did not shrink: $before_du -> $after_du bytes"
note "prune: data directory $before_du -> $after_du bytes; store $before_db -> $(stat -c %s "$DATA/runfs.db") bytes"
assert_eq 2 "$(sql "$DATA/runfs.db" 'PRAGMA auto_vacuum')" "the store's auto_vacuum (incremental)"

# The store gives space back: 150 runs of 50 task runs, then all deleted.
jq -n '{name: "wide", tasks: {w: {command: ["true", "{i}"]}},
        steps: [{id: "w", task: "w", foreach: {i: [range(50)]}}]}' >"$T/wide.json"
wide=()
for _ in $(seq 150); do wide+=("$(submit "$T/wide.json")"); done
for id in "${wide[@]}"; do wait_state "$id" SUCCEEDED; done
sql "$DATA/runfs.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
full=$(stat -c %s "$DATA/runfs.db")
timeout 120 "$RUNFS" rm "${wide[@]}" >/dev/null || fail "runfs rm of 150 runs"
sql "$DATA/runfs.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
emptied=$(stat -c %s "$DATA/runfs.db")
note "store: $full bytes with 150 more runs, $emptied after deleting them"
((emptied * 2 < full)) || fail "the store did not give its space back: $full -> $emptied bytes"

# A delete cut short after its mark (the run's folder in DATA/trash):
# gone after the next start.
victim=${left[-1]}
stop_runfs any
mkdir -p "$DATA/trash"
mv "$DATA/runs/$victim" "$DATA/trash/$victim"
start_runfs in_process
gone "$victim" "a delete finished at start"
[[ ! -e $DATA/trash/$victim ]] || fail "the trash still holds $victim after the start"

# kill -9 in the middle of a real delete of a big run (40,000 files):
# after the next start the run is whole or gone, never half.
jq -n '{name: "many", tasks: {m: {command: ["sh", "-c", "mkdir -p \"$RUNFS_OUTPUTS\" && cd \"$RUNFS_WORKDIR\" 2>/dev/null || cd .; i=0; while [ $i -lt 40000 ]; do : > f$i; i=$((i+1)); done"]}},
        steps: [{id: "m", task: "m"}]}' >"$T/many.json"
many=$(submit "$T/many.json")
wait_state "$many" SUCCEEDED
nfiles=$(find "$DATA/runs/$many" -type f | wc -l)
((nfiles > 40000)) || fail "the big run has only $nfiles files"
(timeout "$TO" rmdir "$MNT/runs/$many" >/dev/null 2>&1 &)
for _ in $(seq 200); do [[ -e $DATA/trash/$many ]] && break; sleep 0.01; done
crash_runfs
state=none
[[ -e $DATA/trash/$many ]] && state=marked
# One of the two folders is gone by now: find says so, and fails.
note "killed during the delete of $many: $state, $({ find "$DATA/runs/$many" "$DATA/trash/$many" -type f 2>/dev/null || true; } | wc -l) files left"
start_runfs in_process
if [[ -d $MNT/runs/$many ]]; then
	assert_eq SUCCEEDED "$(rd "$MNT/runs/$many/status")" "the run that survived the cut delete"
	assert_eq "$nfiles" "$(find "$DATA/runs/$many" -type f | wc -l)" "files of the run that survived"
else
	gone "$many" "the run whose delete was cut"
fi
[[ -z $(ls -A "$DATA/trash" 2>/dev/null) ]] || fail "the trash is not empty after the start: $(ls "$DATA/trash")"
stop_runfs any

# The same on the local runtime: its daemon runs the runs, the mount
# deletes them.
start_runfs local
id=$(submit "$hello")
wait_state "$id" SUCCEEDED
slow=$(submit "$T/long.json")
wait_state "$slow" RUNNING
out=$(timeout "$TO" rmdir "$MNT/runs/$slow" 2>&1) && fail "local: rmdir of a running run succeeded"
assert_contains "$out" "Device or resource busy" "local: rmdir of a running run"
timeout "$TO" rm -r "$MNT/runs/$id" || fail "local: rm -r of an ended run"
gone "$id" "local: rm -r"
wr "$MNT/runs/$slow/ctl" kill
wait_state "$slow" TERMINATED
timeout "$TO" "$RUNFS" rm "$slow" >/dev/null || fail "local: runfs rm of the killed run"
gone "$slow" "local: runfs rm"
stop_runfs
check_stderr
