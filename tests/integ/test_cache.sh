#!/usr/bin/env bash
# The cache of task runs across runs ("cache": true): a second run of an
# unchanged definition starts no task process; a changed middle step runs
# again with its dependants only; an input's content, not its path, is
# what counts; a task without "cache" always runs; hits read the same
# through the mount; an entry outlives the run it came from; two runs of
# one key at once both succeed; a damaged entry is never served.
. "$(dirname "$0")/lib.sh"

started=$T/started
ext=$T/input.txt
echo "alpha" >"$ext"
# src (not cached) reads an outside file; make -> size (by path) and up
# (by content) are cached.
mkdef() { # mkdef FILE UPCMD
	jq -n --arg log "$started" --arg ext "$ext" --arg up "$2" '{name: "cached", cache: true,
	  tasks: {src: {command: ["sh", "-c", "echo src >>\"$0\"; cat \"$1\"", $log, $ext], cache: false},
	          make: {command: ["sh", "-c", "echo make >>\"$0\"; echo made-$1", $log, "{x}"]},
	          size: {command: ["sh", "-c", "echo size >>\"$0\"; wc -c <\"$1\"", $log, "{f}"]},
	          up: {command: ["sh", "-c", ("echo up >>\"$0\"; " + $up), $log, "{t}"]},
	          last: {command: ["sh", "-c", "echo last >>\"$0\"; echo \"$1\"", $log, "{u}"]}},
	  steps: [{id: "src", task: "src"}, {id: "make", task: "make", args: {x: {from: "src"}}},
	          {id: "size", task: "size", args: {f: {path: "make"}}},
	          {id: "up", task: "up", args: {t: {from: "make"}}},
	          {id: "last", task: "last", args: {u: {from: "up"}}}],
	  results: [{from: "size"}, {from: "last"}]}' >"$1"
}
mkdef "$T/a.json" 'echo "$1" | tr a-z A-Z'
mkdef "$T/b.json" 'echo "$1" | tr a-z A-Z | rev'
runs() { sort "$started" | tr '\n' ' ' | sed 's/ $//'; }

start_runfs in_process
: >"$started"
a1=$(submit "$T/a.json")
wait_state "$a1" SUCCEEDED
assert_eq "last make size src up" "$(runs)" "the first run starts every task"

# Unchanged: only src (not cached) runs; the rest are hits.
: >"$started"
a2=$(submit "$T/a.json")
wait_state "$a2" SUCCEEDED
assert_eq "src" "$(runs)" "a second run of the same definition"
for t in make size up last; do
	assert_eq 0 "$(rd "$MNT/runs/$a2/tasks/$t/attempts")" "$t's attempts on a hit"
	assert_eq "../../../$a1/tasks/$t" "$(readlink "$MNT/runs/$a2/tasks/$t/cached_from")" "$t's cached_from"
	cmp <(rd "$MNT/runs/$a1/tasks/$t/stdout") <(rd "$MNT/runs/$a2/tasks/$t/stdout") || fail "$t's stdout differs on a hit"
	assert_eq "$(rd "$MNT/runs/$a1/tasks/$t/cache_key")" "$(rd "$MNT/runs/$a2/tasks/$t/cache_key")" "$t's key"
done
[[ ! -e $MNT/runs/$a2/tasks/src/cached_from ]] || fail "src, not cached, has cached_from"
assert_eq "5/5 SUCCEEDED (4 cached)" "$(rd "$MNT/runs/$a2/progress")" "progress counts the hits apart"
assert_eq "last make size up" "$(rd "$MNT/runs/$a2/events" | awk '$3 == "SUCCEEDED" && $4 == "cached" {print $2}' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"events says which task runs were cache hits"
cmp <(rd "$MNT/runs/$a1/results/0") <(rd "$MNT/runs/$a2/results/0") || fail "results/0 differs on a hit"
cmp <(rd "$MNT/runs/$a1/results/1") <(rd "$MNT/runs/$a2/results/1") || fail "results/1 differs on a hit"
jq -e '[.task_runs[] | select(.cached)] | map(.id) | sort == ["last", "make", "size", "up"]' \
	<"$MNT/runs/$a2/status.json" >/dev/null || fail "status.json's cached: $(jq -c '.task_runs' <"$MNT/runs/$a2/status.json")"
jq -e '.inputs.f | startswith("sha256:")' <"$MNT/runs/$a2/tasks/size/cache_key.json" >/dev/null ||
	fail "cache_key.json: $(rd "$MNT/runs/$a2/tasks/size/cache_key.json")"
# The path given to size differs between the runs; its key does not.
[[ $(rd "$MNT/runs/$a1/tasks/size/inputs/f") != $(rd "$MNT/runs/$a2/tasks/size/inputs/f") ]] ||
	fail "size got the same path in both runs"

# One middle step changed: it and what depends on it run, nothing else.
: >"$started"
b1=$(submit "$T/b.json")
wait_state "$b1" SUCCEEDED
assert_eq "last src up" "$(runs)" "a run with up's command changed"
assert_eq "AHPLA-EDAM" "$(rd "$MNT/runs/$b1/results/1")" "the changed step's result"

# The content of an input counts: src prints something else.
echo "beta" >"$ext"
: >"$started"
a3=$(submit "$T/a.json")
wait_state "$a3" SUCCEEDED
assert_eq "last make size src up" "$(runs)" "a run whose input content changed"
echo "alpha" >"$ext"

# An entry outlives the run it came from.
timeout "$TO" rm -r "$MNT/runs/$a1" || fail "rm -r of the first run"
: >"$started"
a4=$(submit "$T/a.json")
wait_state "$a4" SUCCEEDED
assert_eq "src" "$(runs)" "a run after its source run was deleted"
assert_eq "alpha" "$(rd "$MNT/runs/$a4/results/1" | tr A-Z a-z | sed 's/^made-//')" "the result from the kept entry"

# Two runs of one new key at once: both SUCCEEDED, the same outputs.
jq '.tasks.make.command[2] = "echo make >>\"$0\"; sleep 0.5; echo twin-$1"' "$T/a.json" >"$T/twin.json"
t1=$(submit "$T/twin.json")
t2=$(submit "$T/twin.json")
wait_state "$t1" SUCCEEDED
wait_state "$t2" SUCCEEDED
cmp <(rd "$MNT/runs/$t1/results/1") <(rd "$MNT/runs/$t2/results/1") || fail "the twin runs' results differ"
[[ -z $(ls "$DATA/cache/tmp" 2>/dev/null) ]] || fail "half-made entries left: $(ls "$DATA/cache/tmp")"

# A damaged entry (a file cut short): a miss, never served, and removed.
key=$(rd "$MNT/runs/$a4/tasks/up/cache_key")
[[ -f $DATA/cache/$key/stdout ]] || fail "no entry $key: $(ls "$DATA/cache")"
# A fresh file in its place: the other names of the inode stay whole.
cp "$DATA/cache/$key/stdout" "$T/stdout.copy"
rm "$DATA/cache/$key/stdout"
head -c 3 "$T/stdout.copy" >"$DATA/cache/$key/stdout"
: >"$started"
a5=$(submit "$T/a.json")
wait_state "$a5" SUCCEEDED
# up runs again; its output is the same as before, so last still hits.
assert_eq "src up" "$(runs)" "a run after up's entry was damaged"
assert_eq "MADE-ALPHA" "$(rd "$MNT/runs/$a5/tasks/up/stdout")" "up's stdout after the damaged entry"
ALLOW_STDERR+=("cache entry $key is damaged")
grep -qs "cache entry $key is damaged" "${RUNFS_LOGS[@]}" || fail "no word of the damaged entry in the log"

# Without "cache", everything runs every time.
jq '.cache = false' "$T/a.json" >"$T/nocache.json"
: >"$started"
n1=$(submit "$T/nocache.json")
wait_state "$n1" SUCCEEDED
assert_eq "last make size src up" "$(runs)" "a run without cache"
[[ -z $(rd "$MNT/runs/$n1/tasks/make/cache_key") ]] || fail "a task without cache has a key"

# runfs cache: entries, bytes, hits, misses; prune by size, dry first.
out=$(timeout "$TO" "$RUNFS" cache --data "$DATA")
note "runfs cache: $(tr '\n' ' ' <<<"$out")"
entries=$(awk '$1 == "entries" {print $2}' <<<"$out")
((entries >= 8)) || fail "runfs cache counts $entries entries: $out"
(($(awk '$1 == "hits" {print $2}' <<<"$out") >= 12)) || fail "runfs cache counts too few hits: $out"
(($(awk '$1 == "misses" {print $2}' <<<"$out") >= 8)) || fail "runfs cache counts too few misses: $out"
assert_eq "$entries" "$(timeout "$TO" "$RUNFS" cache prune --max-size 0 --dry-run --data "$DATA" 2>/dev/null | grep -c '^would remove ')" \
	"prune --max-size 0 --dry-run"
assert_eq "$entries" "$(timeout "$TO" "$RUNFS" cache --data "$DATA" | awk '$1 == "entries" {print $2}')" "entries after a dry run"
timeout "$TO" "$RUNFS" cache prune --max-size 0 --data "$DATA" >/dev/null 2>&1 || fail "runfs cache prune"
assert_eq 0 "$(timeout "$TO" "$RUNFS" cache --data "$DATA" | awk '$1 == "entries" {print $2}')" "entries after prune"
assert_eq "MADE-ALPHA" "$(rd "$MNT/runs/$a5/tasks/up/stdout")" "a run's files after its entry was pruned"
: >"$started"
a6=$(submit "$T/a.json")
wait_state "$a6" SUCCEEDED
assert_eq "last make size src up" "$(runs)" "a run after the cache was emptied"
stop_runfs

# -o cache_dir: two data directories share one cache. A data directory
# whose cache holds entries of its own is refused the option.
out=$(timeout 20 "$RUNFS" -f -o "data_dir=$DATA,cache_dir=$T/shared" in_process "$MNT" 2>&1) &&
	fail "cache_dir over a data directory's own cache was accepted"
assert_contains "$out" "holds this data directory's own cache" "cache_dir over an own cache"
start_extra "$T/m1" in_process "data_dir=$T/d1,cache_dir=$T/shared"
start_extra "$T/m2" in_process "data_dir=$T/d2,cache_dir=$T/shared"
: >"$started"
s1=$(timeout "$TO" "$RUNFS" submit --mount "$T/m1" "$T/a.json")
assert_eq SUCCEEDED "$(timeout 60 cat "$T/m1/runs/$s1/wait")" "a run in the first data directory"
: >"$started"
s2=$(timeout "$TO" "$RUNFS" submit --mount "$T/m2" "$T/a.json")
assert_eq SUCCEEDED "$(timeout 60 cat "$T/m2/runs/$s2/wait")" "the same in the second"
assert_eq "src" "$(runs)" "the second data directory's run, from the shared cache"
assert_eq "$T/shared" "$(readlink "$T/d2/cache")" "the second data directory's cache"
cmp <(rd "$T/m1/runs/$s1/results/1") <(rd "$T/m2/runs/$s2/results/1") || fail "results differ across the shared cache"
stop_extra "$T/m1"
stop_extra "$T/m2"
check_stderr
