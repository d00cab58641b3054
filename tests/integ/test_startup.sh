#!/usr/bin/env bash
# A mount that cannot start says why and exits non-zero, with and without
# -f, and leaves nothing mounted and no process behind: a bad data
# directory, an unreadable configuration file, an unknown CONFIG, a store
# of a newer schema. Everything is checked before the daemon goes to the
# background, so the command itself reports it.
. "$(dirname "$0")/lib.sh"

# refused WHY ARGS...: runfs ARGS must exit non-zero within 20 s, print
# WHY on stderr, and leave $MNT unmounted.
refused() {
	local why=$1 rc=0 fg
	shift
	for fg in "" -f; do
		timeout 20 "$RUNFS" $fg "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
		((rc != 0)) || fail "runfs $fg $*: exited 0; expected a refusal ($why)"
		((rc != 124)) || fail "runfs $fg $*: still running after 20 s ($why)"
		grep -qF -- "$why" "$T/err" || fail "runfs $fg $*: stderr does not say $(_q "$why"): $(cat "$T/err")"
		! _mounted || fail "runfs $fg $*: $MNT is mounted"
		note "runfs ${fg:-(background)} refused: $(grep -F -- "$why" "$T/err" | head -1) (status $rc)"
		rc=0
	done
}

# A data directory under a plain file.
touch "$T/file"
refused "data directory $T/file/x: Not a directory" -o "data_dir=$T/file/x" in_process "$MNT"

# An unknown configuration: the known ones are named.
refused 'unknown configuration "nope" (known: in_process, local' -o "data_dir=$DATA" nope "$MNT"

# A configuration file that is not one.
mkdir -p "$T/cfg/runfs"
printf '{"version": 1, "configs": ' >"$T/cfg/runfs/config.json"
XDG_CONFIG_HOME=$T/cfg refused "$T/cfg/runfs/config.json: line" -o "data_dir=$DATA" in_process "$MNT"
rm -r "$T/cfg"
# One that cannot be read (a folder in its place).
mkdir -p "$T/cfg/runfs/config.json"
XDG_CONFIG_HOME=$T/cfg refused "$T/cfg/runfs/config.json: cannot be read: not a regular file" \
	-o "data_dir=$DATA" in_process "$MNT"
rm -r "$T/cfg"

# A store made by a newer runfs.
mkdir -p "$T/newer"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 99"); c.commit()' \
	"$T/newer/runfs.db"
refused "is newer than this runfs" -o "data_dir=$T/newer" in_process "$MNT"

# Nothing of those runs is left: no process names the mount point.
! pgrep -f -- "$MNT" >/dev/null || fail "a process names $MNT: $(pgrep -af -- "$MNT")"

# And a good start still goes to the background and serves.
"$RUNFS" -o "data_dir=$DATA" in_process "$MNT" 2>"$T/err" || fail "runfs in the background: $(cat "$T/err")"
for ((i = 0; i < 200; i++)); do
	_mounted && break
	sleep 0.05
done
_mounted || fail "the background runfs did not mount"
assert_eq "" "$(timeout "$TO" cat "$MNT/index")" "a new mount's index"
timeout "$TO" fusermount3 -u "$MNT" || fail "cannot unmount the background runfs"
echo "PASS: $TEST_NAME"
