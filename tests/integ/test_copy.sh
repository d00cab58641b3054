#!/usr/bin/env bash
# A finished run's folder copies cleanly: cp -r, tar and rsync make
# ordinary files with the same contents as the mount shows, wait and
# events included (a run that has ended gives them their exact size).
. "$(dirname "$0")/lib.sh"

command -v rsync >/dev/null || fail "rsync is not installed"
start_runfs in_process

fan=$(submit "$SRCDIR/examples/fanout.json")
hello=$(submit "$SRCDIR/examples/hello.json")
wait_state "$fan" SUCCEEDED
wait_state "$hello" SUCCEEDED

# A copy is right when diff -r finds no difference with the mount and
# every file of the mount is an ordinary file there, with content where
# the mount has content.
same_tree() { # same_tree RUN COPY HOW
	local src=$MNT/runs/$1 n
	timeout 60 diff -r "$src" "$2" >"$T/diff" 2>&1 || fail "$3: differs from the mount: $(head -20 "$T/diff")"
	n=$(timeout "$TO" find "$src" -type f | wc -l)
	assert_eq "$n" "$(find "$2" -type f | wc -l)" "$3: files copied"
	# Besides files and folders, only by-state's links to task runs,
	# relative, so they hold in the copy.
	assert_eq 0 "$(find "$2" ! -type f ! -type d ! -path "*/by-state/*" | wc -l)" "$3: only files, folders and by-state links"
	assert_eq "$(find "$src/by-state" -type l | wc -l)" "$(find -L "$2/by-state" -mindepth 2 -maxdepth 2 -type d | wc -l)" \
		"$3: by-state links that resolve in the copy"
	assert_eq "SUCCEEDED" "$(cat "$2/wait")" "$3: wait"
	assert_eq "$(rd "$src/events")" "$(cat "$2/events")" "$3: events"
	[[ -s $2/status.json && -s $2/graph.dot && -s $2/results/0 ]] || fail "$3: an empty file"
	note "$3: $n files"
}

for run in "$fan" "$hello"; do
	rm -rf "$T/cp" "$T/tar" "$T/rsync"
	timeout 60 cp -r "$MNT/runs/$run" "$T/cp" 2>"$T/err" || fail "cp -r $run: $(cat "$T/err")"
	[[ ! -s $T/err ]] || fail "cp -r $run complained: $(cat "$T/err")"
	same_tree "$run" "$T/cp" "cp -r $run"

	# tar exits 1 when a file changed as it was read, 2 on an error.
	mkdir -p "$T/tar"
	timeout 60 tar -C "$MNT/runs" -cf "$T/run.tar" "$run" 2>"$T/err" || fail "tar of $run: $(cat "$T/err")"
	[[ ! -s $T/err ]] || fail "tar of $run complained: $(cat "$T/err")"
	tar -C "$T/tar" -xf "$T/run.tar"
	same_tree "$run" "$T/tar/$run" "tar $run"

	timeout 60 rsync -a "$MNT/runs/$run/" "$T/rsync/" 2>"$T/err" || fail "rsync of $run: $(cat "$T/err")"
	same_tree "$run" "$T/rsync" "rsync $run"
	if [[ $run == "$fan" ]]; then
		for c in cp tar/$run rsync; do
			assert_eq "100 338350" "$(cat "$T/$c/results/0")" "$c: the fan-out's result"
			assert_eq 49 "$(cat "$T/$c/tasks/square.6/stdout")" "$c: a copy's stdout"
		done
	fi
done

stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
