#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes hold text for sh -c and literal backquotes
# What the tree refuses: rejected definitions (the error read back on the
# same open file, the close fails with EINVAL, nothing recorded), EFBIG,
# EACCES on read-only files, EROFS on creating/renaming, EPERM on removing
# what is not a run, EINVAL on
# an unknown ctl verb, EBUSY on a verb that does not apply; and prepare +
# start.
. "$(dirname "$0")/lib.sh"

hello=$SRCDIR/examples/hello.json
start_runfs in_process

runs_before=$(count_entries "$MNT/runs")
assert_eq 0 "$runs_before" "runs/ on a new data_dir"

# reject NAME EXPECTED JQ_FILTER: hello.json changed by JQ_FILTER must be
# rejected with an error text holding EXPECTED.
n=0
reject() {
	local name=$1 want=$2 def ans out rc=0
	n=$((n + 1))
	def=$T/bad.$n.json
	jq "$3" "$hello" >"$def"
	ans=$(submit_raw "$def") || true
	assert_match '^error: ' "$ans" "$name: the answer read on the open file"
	assert_contains "$ans" "$want" "$name: the error text"
	# Fire and forget: the close fails with EINVAL.
	out=$(timeout "$TO" sh -c 'cat "$1" >"$2"' sh "$def" "$MNT/submit" 2>&1) || rc=$?
	((rc != 0)) || fail "$name: cat > submit succeeded"
	assert_contains "$out" "Invalid argument" "$name: cat > submit"
}
reject "unknown field" 'bogus' '.bogus = 1'
reject "unknown step" 'steps[1].args.text: unknown step "shout2"' '.steps[1].args.text.from = "shout2"'
reject "cycle" "cycle" '.steps[0].args.who = {"from": "shout"}'
reject "duplicate id" "duplicate" '.steps[2].id = "greet"'
reject "bad name" "name" '.name = "Hello World"'
reject "missing argument" "who" '.steps[0] |= del(.args)'
reject "slash in an id" "steps[0].id" '.steps[0].id = "a/b"'
reject "dot-dot id" "steps[0].id" '.steps[0].id = ".."'
reject "unknown task" 'nope' '.steps[0].task = "nope"'
reject "unknown task field" 'comand' '.tasks.greet.comand = .tasks.greet.command | del(.tasks.greet.command)'
reject "wrong type" "retries" '.tasks.greet.retries = "two"'

# Not JSON, blank, nothing.
printf '{"name": "x",' >"$T/trunc.json"
assert_match '^error: ' "$(submit_raw "$T/trunc.json" || true)" "truncated JSON"
printf ' \n' >"$T/blank.json"
assert_match '^error: ' "$(submit_raw "$T/blank.json" || true)" "a blank definition"
# Nothing written: no run, whatever the read shows.
: >"$T/empty.json"
ans=$(submit_raw "$T/empty.json" 2>/dev/null || true)
[[ ! $ans =~ $RUN_ID_RE ]] || fail "an empty write made run $ans"
# prepare rejects the same way.
assert_match '^error: .*shout2' "$(submit_raw "$T/bad.2.json" prepare || true)" "prepare of a bad definition"

# Over 16 MiB: the write fails with EFBIG.
out=$(timeout 30 sh -c 'head -c 17825792 /dev/zero | tr "\0" " " >"$1"' sh "$MNT/submit" 2>&1) &&
	fail "a 17 MiB definition was accepted"
assert_contains "$out" "File too large" "a 17 MiB definition"

# Nothing was recorded.
assert_eq "$runs_before" "$(count_entries "$MNT/runs")" "runs/ after the rejected definitions"
if [[ -d $DATA/runs ]]; then
	assert_eq 0 "$(find "$DATA/runs" -mindepth 1 -maxdepth 1 | wc -l)" "runs on disk after the rejected definitions"
fi

# A good run to poke at.
id=$(submit "$hello")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id

# Read-only files: EACCES.
for f in "$R/status" "$R/status.json" "$R/definition.json" "$R/tasks/greet/stdout" \
	"$R/results/0" "$MNT/configs/in_process"; do
	assert_contains "$(write_error "$f" x)" "Permission denied" "writing ${f#"$MNT"/}"
done
assert_eq SUCCEEDED "$(rd "$R/status")" "status after the refused write"

# Creating and renaming: EROFS.
refused() { # refused ERROR WHAT CMD...: CMD fails, saying ERROR
	local error=$1 what=$2 out rc=0
	shift 2
	out=$(timeout "$TO" "$@" 2>&1) || rc=$?
	((rc != 0)) || fail "$what succeeded"
	assert_contains "$out" "$error" "$what"
}
erofs() { refused "Read-only file system" "$@"; }
erofs "mkdir in runs/" mkdir "$MNT/runs/newdir"
erofs "mkdir at the top" mkdir "$MNT/newdir"
erofs "touch a new file" touch "$MNT/newfile"
erofs "touch a new file in a run" touch "$R/newfile"
erofs "mv status" mv "$R/status" "$R/status2"
erofs "ln -s" ln -s /etc/passwd "$R/link"
# Removing: a run's files go only with the whole run (rmdir runs/ID,
# test_delete); inside an ended run a removal succeeds and changes
# nothing, so that rm -r can empty it first; anything else: EPERM.
timeout "$TO" rm -f "$R/status" || fail "rm status in an ended run"
timeout "$TO" rmdir "$R/tasks/greet" || fail "rmdir a task in an ended run"
assert_eq SUCCEEDED "$(rd "$R/status")" "status after rm"
[[ -d $R/tasks/greet ]] || fail "tasks/greet is gone after its rmdir"
eperm() { refused "Operation not permitted" "$@"; }
eperm "rm index" rm -f "$MNT/index"
eperm "rm submit" rm -f "$MNT/submit"
eperm "rmdir by-state/FAILED" rmdir "$MNT/by-state/FAILED"
eperm "rmdir runs" rmdir "$MNT/runs"
assert_eq "$id" "$(timeout "$TO" ls "$MNT/runs")" "runs/ after the refused changes"

# ctl: an unknown verb is EINVAL; a verb that does not apply now is EBUSY.
assert_contains "$(write_error "$R/ctl" frobnicate)" "Invalid argument" "an unknown ctl verb"
assert_contains "$(write_error "$R/ctl" start)" "Device or resource busy" "start on a finished run"
assert_contains "$(write_error "$R/ctl" stop)" "Device or resource busy" "stop on a finished run"

# A run that does not exist.
assert_contains "$(read_error "$MNT/runs/wf.nope.0000000/status")" "No such file or directory" "a missing run"
assert_contains "$(read_error "$R/tasks/nope/status")" "No such file or directory" "a missing task"
assert_contains "$(read_error "$R/results/2")" "No such file or directory" "a result past the last"

# prepare: the run waits for "start".
prep=$(submit "$hello" prepare)
P=$MNT/runs/$prep
assert_eq WAITING "$(rd "$P/status")" "status of a prepared run"
ctl=$(rd "$P/ctl")
assert_eq "state WAITING" "$(head -n 1 <<<"$ctl")" "ctl of a prepared run"
assert_contains "$(sed -n 2p <<<"$ctl")" "start" "verbs of a prepared run"
sleep 0.5 # a prepared run must not start on its own
assert_eq WAITING "$(rd "$P/status")" "status of a prepared run after 0.5 s"
assert_eq 0 "$(rd "$P/tasks/greet/attempts")" "attempts in a prepared run"
assert_contains "$(read_error "$P/results/0")" "Resource temporarily unavailable" "results of a prepared run"
wr "$P/ctl" start || fail "echo start > ctl failed"
wait_state "$prep" SUCCEEDED
assert_eq "HELLO, WORLD!" "$(rd "$P/results/0")" "results/0 of the started run"
assert_contains "$(write_error "$P/ctl" start)" "Device or resource busy" "start twice"

# Configurations.
assert_eq in_process "$(rd "$MNT/configs/default")" "configs/default"
rd "$MNT/configs/in_process" | jq -e . >/dev/null || fail "configs/in_process is not JSON"
