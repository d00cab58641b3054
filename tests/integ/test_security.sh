#!/usr/bin/env bash
# What a task leaves among its outputs cannot make the mount read a file
# elsewhere: a symlink as an output, or as its whole outputs folder, reads
# as an error (ELOOP), never as the file it points to. The mount is
# private unless allow_other is asked for, and then checks permissions;
# the data directory and what runfs writes in it are the user's alone.
. "$(dirname "$0")/lib.sh"

secret="TOPSECRET-$TOKEN"
mkdir -p "$T/elsewhere"
printf '%s\n' "$secret" >"$T/elsewhere/secret"
jq -n --arg s "$T/elsewhere/secret" --arg d "$T/elsewhere" '{
  name: "links",
  tasks: {
    link: {command: ["sh", "-c", "ln -s \"$0\" \"$RUNFS_OUTPUTS/out\"", $s], outputs: ["out"]},
    dir: {command: ["sh", "-c", "rmdir \"$RUNFS_OUTPUTS\" && ln -s \"$0\" \"$RUNFS_OUTPUTS\"", $d],
          outputs: ["secret"]}
  },
  steps: [{id: "link", task: "link"}, {id: "dir", task: "dir"}],
  results: [{from: "link.out"}, {from: "dir.secret"}]
}' >"$T/links.json"

start_runfs in_process
# A task that leaves a link as its output, or as its outputs folder, fails.
id=$(submit "$T/links.json")
wait_state "$id" FAILED
for t in link dir; do
	wait_task_state "$id" "$t" FAILED
	assert_contains "$(rd "$MNT/runs/$id/tasks/$t/message")" "was not written (a regular file" "$t's message"
done

# A link put in place after the task succeeded (by a process it left
# behind, say) is not followed when the output is read through the mount.
jq -n '{name: "plain", tasks: {w: {command: ["sh", "-c", "echo fine >\"$RUNFS_OUTPUTS/out\""], outputs: ["out"]}},
  steps: [{id: "a", task: "w"}, {id: "b", task: "w"}], results: [{from: "a.out"}, {from: "b.out"}]}' >"$T/plain.json"
id=$(submit "$T/plain.json")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
# Read from the data directory: through the mount, the kernel would keep
# what it read of this settled run (fs/kcache.c), and the links below are
# put in behind runfs's back.
assert_eq fine "$(cat "$DATA/runs/$id/outputs/a.1/out")" "a result before"
ln -sf "$T/elsewhere/secret" "$DATA/runs/$id/outputs/a.1/out"
rm -rf "$DATA/runs/$id/outputs/b.1"
cp "$T/elsewhere/secret" "$T/elsewhere/out"
ln -s "$T/elsewhere" "$DATA/runs/$id/outputs/b.1"
for f in tasks/a/outputs/out artifacts/a/out results/0 tasks/b/outputs/out artifacts/b/out results/1; do
	out=$(read_error "$R/$f")
	assert_contains "$out" "Too many levels of symbolic links" "$f, a link"
	[[ $(timeout "$TO" stat -c %s "$R/$f") == 0 ]] || fail "$f reports the size of what the link points to"
done
if timeout 30 grep -r -- "$secret" "$R" 2>/dev/null; then
	fail "the secret shows under the run's folder"
fi

# Private by default; allow_other brings default_permissions with it.
opts=$(awk -v m="$MNT" '$5 == m {print $0}' /proc/self/mountinfo)
assert_not_contains "$opts" "allow_other" "a mount without -o allow_other"
assert_eq 700 "$(stat -c %a "$DATA")" "the data directory's mode"
assert_eq 600 "$(stat -c %a "$DATA/runfs.db")" "the store's mode"
assert_eq 600 "$(stat -c %a "$DATA/runs/$id/logs")" "a run file's mode"
bad=$(find "$DATA" ! -path "$DATA/runs/$id/outputs/*" \( \( -type f -perm /077 \) -o \( -type d -perm /077 \) \) | head -5)
assert_eq "" "$bad" "files or folders under the data directory open to others"
stop_runfs

start_runfs in_process allow_other
opts=$(awk -v m="$MNT" '$5 == m {print $0}' /proc/self/mountinfo)
assert_contains "$opts" "allow_other" "-o allow_other"
assert_contains "$opts" "default_permissions" "allow_other with default_permissions"
stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
