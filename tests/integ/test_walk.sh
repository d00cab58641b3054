#!/usr/bin/env bash
# A mount of a few hundred runs of every kind (ended, running, failed, a
# fan-out of 300 copies, binary output, a log of 24 MiB) walked by the
# tools users rely on: tar, rsync -a (twice), cp -r, Python's os.walk and
# shutil.copytree, find (-inum, -newer, -size), du -sb and head. Every
# regular file gives full reads until end-of-file at every read size, as
# many bytes as stat says; readdir's inode numbers are lookup's; copies
# match the mount; a FAILED run's unavailable files fail every copying
# tool with ENODATA, as docs/TREE.md says.
# Its own watchdog: it reads and copies a lot (ctest gives it 600 s).
TEST_LIMIT=${TEST_LIMIT:-480}
. "$(dirname "$0")/lib.sh"

for tool in rsync python3 tar du find head diff; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
PY=(python3 "$SRCDIR/tests/tools/treecheck.py")
start_runfs in_process

jq -n '{name: "small", tasks: {t: {command: ["echo", "{i}"]}},
  steps: [{id: "s", task: "t", args: {i: "x"}}], results: [{from: "s"}]}' >"$T/small.json"
jq -n '{name: "fan", tasks: {sq: {command: ["echo", "{n}"]}, count: {command: ["wc", "-l"], stdin: "{all}"}},
  steps: [{id: "sq", task: "sq", foreach: {n: [range(300)]}},
          {id: "count", task: "count", args: {all: {from: "sq"}}}],
  results: [{from: "count"}]}' >"$T/fan.json"
jq -n '{name: "bin", tasks: {rand: {command: ["sh", "-c",
  "head -c 65536 /dev/urandom; head -c 100000 /dev/urandom > \"$RUNFS_OUTPUTS/data.bin\""],
  outputs: ["stdout", "data.bin"]}},
  steps: [{id: "rand", task: "rand"}], results: [{from: "rand"}]}' >"$T/bin.json"
jq -n '{name: "big", tasks: {big: {command: ["sh", "-c",
  "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 25165824"]}},
  steps: [{id: "big", task: "big"}]}' >"$T/big.json"
jq -n '{name: "broken", tasks: {make: {command: ["sh", "-c", "echo partial; exit 3"], outputs: ["stdout", "extra"]},
  use: {command: ["cat"], stdin: "{x}"}},
  steps: [{id: "make", task: "make"}, {id: "use", task: "use", args: {x: {from: "make"}}}],
  results: [{from: "use"}]}' >"$T/broken.json"
gated_def "$T/gated.json" "$T/gate"

fan=$(submit "$T/fan.json")
bin=$(submit "$T/bin.json")
big=$(submit "$T/big.json")
broken=$(submit "$T/broken.json")
running=$(submit "$T/gated.json")
for ((i = 0; i < 230; i++)); do
	timeout "$TO" sh -c 'cat "$1" >"$2"' sh "$T/small.json" "$MNT/submit"
done
# Runs made after a mark are exactly those that find -newer finds. The
# pauses are for the mark's mtime, which the kernel takes from a clock
# that may lag by a tick (a few ms).
sleep 0.05
touch "$T/mark"
sleep 0.05
later=()
for ((i = 0; i < 20; i++)); do
	later+=("$(submit "$T/small.json")")
done

for run in "$fan" "$bin" "$big"; do
	assert_eq SUCCEEDED "$(timeout 120 cat "$MNT/runs/$run/wait")" "$run"
done
assert_eq FAILED "$(timeout "$TO" cat "$MNT/runs/$broken/wait")" "$broken"
for ((i = 0; i < 600; i++)); do
	n=$(timeout "$TO" cat "$MNT/index" | awk -F'\t' '$2 != "SUCCEEDED" && $2 != "FAILED"' | wc -l)
	((n == 1)) && break
	sleep 0.1
done
((n == 1)) || fail "$n runs have not ended after 60 s"
nruns=$(count_entries "$MNT/runs")
assert_eq 255 "$nruns" "runs in the mount"
wait_task_state "$running" hold RUNNING
mapfile -t smalls < <(timeout "$TO" ls "$MNT/by-state/SUCCEEDED" | grep '^wf\.small\.' | awk "NR <= 10")
ended=("$fan" "$bin" "$big" "${smalls[@]}")

# ------------------------------------------------- inode numbers: d_ino = st_ino
timeout 120 "${PY[@]}" inodes "$MNT" >"$T/inodes" || fail "inode numbers: $(tail -n 12 "$T/inodes")"
note "$(tail -1 "$T/inodes")"
for dir in "$MNT" "$MNT/runs/$fan" "$MNT/runs/$fan/tasks/sq.7" "$MNT/runs/$running"; do
	for f in "$dir"/*; do
		got=$(timeout "$TO" find "$dir" -mindepth 1 -maxdepth 1 -inum "$(stat -c %i "$f")")
		assert_eq "$f" "$got" "find -inum of ${f#"$MNT"/}"
	done
done

# ------------------------------------------------- reads: full until end-of-file
for run in "${ended[@]}"; do
	timeout 240 "${PY[@]}" reads "$MNT/runs/$run" >"$T/reads" || fail "reads of $run: $(tail -n 12 "$T/reads")"
	! grep -q unreadable "$T/reads" || fail "reads of $run: $(grep unreadable "$T/reads" | sed -n 1,10p)"
done
note "reads: ${#ended[@]} ended runs, every file at ${#ended[@]} block sizes"
timeout 120 "${PY[@]}" reads "$MNT/runs/$running" wait events >"$T/reads" ||
	fail "reads of the running run: $(tail -n 12 "$T/reads")"
events_lines=$(timeout "$TO" cat "$MNT/runs/$fan/events" | wc -l)
((events_lines > 256)) || fail "the fan-out has only $events_lines events"

# Random reads against the bytes in the data directory.
runs_dir=$DATA/runs
"${PY[@]}" backing "$MNT/runs/$big/tasks/big/stdout" "$runs_dir/$big/logs.d/big.1.stdout" || fail "big stdout"
"${PY[@]}" backing "$MNT/runs/$big/logs" "$runs_dir/$big/logs" || fail "big logs"
"${PY[@]}" backing "$MNT/runs/$bin/tasks/rand/stdout" "$runs_dir/$bin/logs.d/rand.1.stdout" || fail "bin stdout"
"${PY[@]}" backing "$MNT/runs/$bin/tasks/rand/outputs/data.bin" "$runs_dir/$bin/outputs/rand.1/data.bin" ||
	fail "bin data.bin"

# head reads a block, prints its lines and seeks back: an ended run's
# events is an ordinary file.
timeout "$TO" head -n 3 "$MNT/runs/$fan/events" >"$T/head" 2>"$T/err" || fail "head -n 3 events: $(cat "$T/err")"
[[ ! -s $T/err ]] || fail "head -n 3 events complained: $(cat "$T/err")"
assert_eq 3 "$(wc -l <"$T/head")" "head -n 3 events"

# ------------------------------------------------- copies that match
# With -L, links count as what they point to: shutil.copytree copies the
# task runs that runs/<id>/by-state/ links to, as it copies any link.
same() { # same COPY-DIR HOW [-L]: every ended run copied, identical to the mount
	local run
	for run in "${ended[@]}"; do
		timeout 120 diff -r "$MNT/runs/$run" "$1/$run" >"$T/diff" 2>&1 ||
			fail "$2: $run differs: $(head -5 "$T/diff")"
		assert_eq "$(timeout "$TO" find ${3:-} "$MNT/runs/$run" | wc -l)" "$(cd "$1" && find "$run" | wc -l | tr -d ' ')" \
			"$2: entries of $run"
	done
	note "$2: ${#ended[@]} runs match the mount"
}

timeout 240 tar -C "$MNT/runs" -cf "$T/runs.tar" "${ended[@]}" 2>"$T/err" || fail "tar: $(cat "$T/err")"
[[ ! -s $T/err ]] || fail "tar complained: $(cat "$T/err")"
mkdir "$T/tar"
tar -C "$T/tar" -xf "$T/runs.tar"
same "$T/tar" "tar"

mkdir "$T/rsync"
srcs=()
for run in "${ended[@]}"; do srcs+=("$MNT/runs/$run"); done
timeout 240 rsync -a "${srcs[@]}" "$T/rsync/" 2>"$T/err" || fail "rsync -a: $(cat "$T/err")"
same "$T/rsync" "rsync -a"
timeout 240 rsync -a --stats "${srcs[@]}" "$T/rsync/" >"$T/stats" 2>"$T/err" || fail "rsync -a again: $(cat "$T/err")"
assert_match "Number of regular files transferred: 0$" "$(grep 'files transferred' "$T/stats")" \
	"the second rsync -a"

mkdir "$T/cp"
timeout 240 cp -r "${srcs[@]}" "$T/cp/" 2>"$T/err" || fail "cp -r: $(cat "$T/err")"
[[ ! -s $T/err ]] || fail "cp -r complained: $(cat "$T/err")"
same "$T/cp" "cp -r"

mkdir "$T/py"
for run in "${ended[@]}"; do
	timeout 240 "${PY[@]}" copytree "$MNT/runs/$run" "$T/py/$run" >"$T/out" || fail "copytree $run: $(sed -n 1,10p "$T/out")"
done
same "$T/py" "shutil.copytree" -L

n=$(timeout 60 "${PY[@]}" walk "$MNT/runs/$fan")
assert_eq "$(timeout "$TO" find "$MNT/runs/$fan" -mindepth 1 | wc -l)" "$n" "os.walk against find"

# ------------------------------------------------- find -size, -newer; du
for run in "$fan" "$big" "$bin"; do
	assert_eq "$("${PY[@]}" sizes "$MNT/runs/$run")" "$(timeout 60 du -sb "$MNT/runs/$run" | cut -f1)" \
		"du -sb of $run against the sum of sizes"
done
want=$(timeout 60 find "$MNT/runs/$big" -type f -exec stat -c '%s %n' {} + | awk '$1 > 20971520 {print $2}' | sort)
got=$(timeout 60 find "$MNT/runs/$big" -type f -size +20971520c | sort)
assert_eq "$want" "$got" "find -size +20M"
assert_contains "$got" "$MNT/runs/$big/tasks/big/stdout" "find -size"
got=$(timeout 60 find "$MNT/runs" -mindepth 1 -maxdepth 1 -newer "$T/mark" -printf '%f\n' | sort)
assert_eq "$(printf '%s\n' "${later[@]}" | sort)" "$got" "find -newer: the runs made after the mark"

# ------------------------------------------------- a FAILED run's unavailable files
# What cannot be read: results/0, the outputs of the task runs that did
# not succeed, and use's input (the output of make, which failed). Each
# copying tool must say so for exactly those files.
unavailable=(results/0 tasks/use/inputs/x)
for t in make use; do
	st=$(timeout "$TO" cat "$MNT/runs/$broken/tasks/$t/status")
	[[ $st == SUCCEEDED ]] && continue
	for o in $(timeout "$TO" ls "$MNT/runs/$broken/tasks/$t/outputs"); do
		unavailable+=("tasks/$t/outputs/$o")
	done
done
expect=$(printf '%s\n' "${unavailable[@]}" | sort)
note "unavailable in the FAILED run: ${unavailable[*]}"

timeout 60 "${PY[@]}" reads "$MNT/runs/$broken" >"$T/reads" || fail "reads of $broken: $(tail -n 12 "$T/reads")"
assert_eq "$expect" "$(awk '/^unreadable/ {print $2}' "$T/reads" | sed "s|^$MNT/runs/$broken/||" | sort)" \
	"files that cannot be read"
assert_eq ENODATA "$(awk '/^unreadable/ {print $3}' "$T/reads" | sort -u)" "their error"

rc=0
timeout 60 tar -C "$MNT/runs" -cf "$T/broken.tar" "$broken" 2>"$T/err" || rc=$?
assert_eq 2 "$rc" "tar of a FAILED run"
assert_eq "$expect" "$(sed -n "s|^tar: $broken/\(.*\): Cannot open: No data available$|\1|p" "$T/err" | sort)" \
	"tar's errors"
assert_eq "${#unavailable[@]}" "$(grep -vc '^tar: Exiting with failure status' "$T/err")" \
	"tar's error lines: $(cat "$T/err")"

rc=0
timeout 60 cp -r "$MNT/runs/$broken" "$T/cpb" 2>"$T/err" || rc=$?
assert_eq 1 "$rc" "cp -r of a FAILED run"
assert_eq "$expect" "$(sed -n "s|^cp: cannot open '$MNT/runs/$broken/\(.*\)' for reading: No data available$|\1|p" "$T/err" | sort)" \
	"cp's errors: $(cat "$T/err")"

rc=0
timeout 60 rsync -a "$MNT/runs/$broken/" "$T/rsb/" 2>"$T/err" || rc=$?
assert_eq 23 "$rc" "rsync -a of a FAILED run"
assert_eq "$expect" "$(sed -n 's|^rsync: \[sender\] send_files failed to open "'"$MNT/runs/$broken"'/\(.*\)": No data available (61)$|\1|p' "$T/err" | sort)" \
	"rsync's errors: $(cat "$T/err")"

rc=0
timeout 60 "${PY[@]}" copytree "$MNT/runs/$broken" "$T/pyb" >"$T/out" || rc=$?
assert_eq 3 "$rc" "shutil.copytree of a FAILED run"
# copytree follows by-state/'s links: a task run's unavailable files fail
# again there, under its state.
expect_py=$expect
for f in "${unavailable[@]}"; do
	[[ $f == tasks/* ]] || continue
	t=${f#tasks/}
	t=${t%%/*}
	expect_py+=$'\n'"by-state/$(rd "$MNT/runs/$broken/tasks/$t/status")/${f#tasks/}"
done
expect_py=$(sort <<<"$expect_py")
assert_eq "$expect_py" "$(awk '/^copyerror/ {print $2}' "$T/out" | sort)" "shutil's errors: $(cat "$T/out")"

# Everything else was copied, the same as the mount shows.
for c in "$T/cpb" "$T/rsb" "$T/pyb"; do
	for f in $(cd "$c" && find . -type f | sed 's|^\./||'); do
		cmp -s "$c/$f" "$MNT/runs/$broken/$f" || fail "$c/$f differs from the mount"
	done
	L=
	[[ $c == "$T/pyb" ]] && L=-L
	assert_eq "$(($(timeout "$TO" find $L "$MNT/runs/$broken" -type f | wc -l) - $(wc -l <<<"${L:+$expect_py}${L:-$expect}")))" \
		"$(find "$c" -type f | wc -l)" "files copied by ${c##*/}"
done

# ------------------------------------------------- the running run ends
touch "$T/gate"
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$running/wait")" "the gated run"
timeout 60 "${PY[@]}" reads "$MNT/runs/$running" >"$T/reads" || fail "reads of the ended run: $(tail -n 12 "$T/reads")"

stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
