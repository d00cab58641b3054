#!/usr/bin/env bash
# A chain with data passing by value and by path (examples/hello.json), and
# every file of its run: content, sizes, status.json through jq, listings.
. "$(dirname "$0")/lib.sh"

start_runfs in_process
def=$SRCDIR/examples/hello.json
id=$(submit "$def")
assert_match '^wf\.hello\.[0-9a-f]{7}$' "$id" "run id"
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id

# Listings.
assert_contains "$(timeout "$TO" ls "$MNT")" "submit" "ls M"
assert_contains "$(timeout "$TO" ls "$MNT/runs")" "$id" "ls M/runs"
listing=$(timeout "$TO" ls "$R")
for f in status status.json progress message definition.json config logs ctl \
	results artifacts tasks; do
	grep -qx -- "$f" <<<"$listing" || fail "ls $R has no $f: $listing"
done
assert_eq "greet
shout
size" "$(timeout "$TO" ls "$R/tasks" | sort)" "ls tasks"
assert_eq "0
1" "$(timeout "$TO" ls "$R/results")" "ls results"
assert_eq "greet shout size" "$(timeout "$TO" ls "$R/artifacts" | sort | paste -sd' ')" "ls artifacts"
assert_eq "stdout" "$(timeout "$TO" ls "$R/artifacts/greet")" "ls artifacts/greet"

# Run files.
assert_eq SUCCEEDED "$(rd "$R/status")" status
assert_eq "3/3 SUCCEEDED" "$(rd "$R/progress")" progress
assert_eq "" "$(rd "$R/message")" message
assert_eq in_process "$(rd "$R/config")" config
cmp -s <(rd "$R/definition.json") "$def" || fail "definition.json differs from $def"
# Exact bytes: the status file is the word and one newline.
cmp -s <(rd "$R/status") <(printf 'SUCCEEDED\n') || fail "status is not 'SUCCEEDED\\n'"

# status.json through jq.
sj=$(rd "$R/status.json")
jq -e . >/dev/null <<<"$sj" || fail "status.json is not JSON: $sj"
assert_eq "$id" "$(jq -r .id <<<"$sj")" "status.json .id"
assert_eq hello "$(jq -r .name <<<"$sj")" "status.json .name"
assert_eq in_process "$(jq -r .config <<<"$sj")" "status.json .config"
assert_eq SUCCEEDED "$(jq -r .state <<<"$sj")" "status.json .state"
assert_eq 3 "$(jq -r .tasks.total <<<"$sj")" "status.json .tasks.total"
assert_eq 3 "$(jq -r .tasks.SUCCEEDED <<<"$sj")" "status.json .tasks.SUCCEEDED"
assert_eq "greet shout size" "$(jq -r '[.task_runs[].id] | sort | join(" ")' <<<"$sj")" "status.json task ids"
assert_eq "SUCCEEDED" "$(jq -r '[.task_runs[].state] | unique | join(" ")' <<<"$sj")" "status.json task states"
for k in created started ended; do
	assert_match "$ISO8601" "$(jq -r ".$k" <<<"$sj")" "status.json .$k"
done
[[ $(jq -r .started <<<"$sj") < $(jq -r .ended <<<"$sj") ||
	$(jq -r .started <<<"$sj") == $(jq -r .ended <<<"$sj") ]] || fail "status.json: started after ended"

# Results: by value (shout) and by path (size).
cmp -s <(rd "$R/results/0") <(printf 'HELLO, WORLD!') ||
	fail "results/0 is $(_q "$(rd "$R/results/0")"), not 'HELLO, WORLD!'"
path=$(rd "$R/tasks/size/inputs/file")
assert_match '^/' "$path" "inputs/file is an absolute path"
[[ $path == "$DATA"/* ]] || fail "inputs/file $path is not under the data directory $DATA"
cmp -s "$path" <(printf 'Hello, world!\n') || fail "the file at $path does not hold greet's output"
cmp -s <(rd "$R/results/1") <(printf '14 %s\n' "$path") ||
	fail "results/1 is $(_q "$(rd "$R/results/1")"), not '14 $path'"

# Task runs.
for t in greet shout size; do
	T_=$R/tasks/$t
	listing=$(timeout "$TO" ls "$T_")
	for f in status exit_code attempts started ended message task parents command \
		inputs outputs stdout stderr logs; do
		grep -qx -- "$f" <<<"$listing" || fail "ls $T_ has no $f: $listing"
	done
	assert_eq SUCCEEDED "$(rd "$T_/status")" "$t/status"
	assert_eq 0 "$(rd "$T_/exit_code")" "$t/exit_code"
	assert_eq 1 "$(rd "$T_/attempts")" "$t/attempts"
	assert_eq "" "$(rd "$T_/message")" "$t/message"
	started=$(rd "$T_/started")
	ended=$(rd "$T_/ended")
	assert_match "$ISO8601" "$started" "$t/started"
	assert_match "$ISO8601" "$ended" "$t/ended"
	[[ $started < $ended || $started == "$ended" ]] || fail "$t: started $started after ended $ended"
	assert_eq "" "$(rd "$T_/stderr")" "$t/stderr"
	cmp -s <(rd "$T_/stdout") <(rd "$T_/outputs/stdout") || fail "$t: stdout and outputs/stdout differ"
	cmp -s <(rd "$T_/stdout") <(rd "$R/artifacts/$t/stdout") || fail "$t: stdout and artifacts/$t/stdout differ"
	rd "$T_/command" | jq -e 'type == "array"' >/dev/null || fail "$t/command is not a JSON array"
done

T_=$R/tasks/greet
assert_eq greet "$(rd "$T_/task")" "greet/task"
assert_eq "" "$(rd "$T_/parents")" "greet/parents"
assert_eq '["printf","Hello, %s!\\n","world"]' "$(rd "$T_/command" | jq -c .)" "greet/command"
assert_eq who "$(timeout "$TO" ls "$T_/inputs")" "ls greet/inputs"
assert_eq world "$(rd "$T_/inputs/who")" "greet/inputs/who"
cmp -s <(rd "$T_/stdout") <(printf 'Hello, world!\n') || fail "greet/stdout is not 'Hello, world!\\n'"
assert_contains "$(rd "$T_/logs")" "Hello, world!" "greet/logs"

T_=$R/tasks/shout
assert_eq upper "$(rd "$T_/task")" "shout/task"
assert_eq greet "$(rd "$T_/parents")" "shout/parents"
assert_eq '["tr","a-z","A-Z"]' "$(rd "$T_/command" | jq -c .)" "shout/command"
# By value: the trailing newline is removed, as $(...) does.
cmp -s <(rd "$T_/inputs/text") <(printf 'Hello, world!') || fail "shout/inputs/text is $(_q "$(rd "$T_/inputs/text")")"
cmp -s <(rd "$T_/stdout") <(printf 'HELLO, WORLD!') || fail "shout/stdout is $(_q "$(rd "$T_/stdout")")"

T_=$R/tasks/size
assert_eq count "$(rd "$T_/task")" "size/task"
assert_eq greet "$(rd "$T_/parents")" "size/parents"
assert_eq "$(jq -cn --arg p "$path" '["wc","-c",$p]')" "$(rd "$T_/command" | jq -c .)" "size/command"
cmp -s <(rd "$T_/stdout") <(printf '14 %s\n' "$path") || fail "size/stdout is $(_q "$(rd "$T_/stdout")")"

# The run's logs: every task's lines, each "<task-id> | <line>".
logs=$(rd "$R/logs")
assert_contains "$logs" "greet | Hello, world!" "logs"
assert_contains "$logs" "shout | HELLO, WORLD!" "logs"
assert_contains "$logs" "size | 14 $path" "logs"

# ctl reads back the state and the verbs accepted now.
ctl=$(rd "$R/ctl")
assert_eq "state SUCCEEDED" "$(head -n 1 <<<"$ctl")" "ctl first line"
assert_match '^verbs' "$(sed -n 2p <<<"$ctl")" "ctl second line"

# Modes, inode stability, sizes.
assert_eq 555 "$(timeout "$TO" stat -c %a "$R")" "mode of the run directory"
assert_eq 555 "$(timeout "$TO" stat -c %a "$R/tasks/greet")" "mode of a task directory"
assert_eq 444 "$(timeout "$TO" stat -c %a "$R/status")" "mode of status"
assert_eq 644 "$(timeout "$TO" stat -c %a "$R/ctl")" "mode of ctl"
assert_eq 644 "$(timeout "$TO" stat -c %a "$MNT/submit")" "mode of submit"
ino=$(timeout "$TO" stat -c %i "$R/status")
rd "$R/status.json" >/dev/null
assert_eq "$ino" "$(timeout "$TO" stat -c %i "$R/status")" "inode of status"
check_sizes "$R"
