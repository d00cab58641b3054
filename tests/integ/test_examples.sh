#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes hold text for sh -c and literal backquotes
# Each example behaves through the mount as its paragraph in
# examples/README.md says. The facts checked here are the ones that
# paragraph states; the first block checks that the README still states
# them, so the two cannot drift apart unnoticed.
. "$(dirname "$0")/lib.sh"

EX=$SRCDIR/examples
readme=$(tr '\n' ' ' <"$EX/README.md" | tr -s ' ')
for fact in "## hello.json" "## fanout.json" "## failing.json" \
	'`Hello, world!`' '14 bytes' '`HELLO, WORLD!`' '`results/1` is `14 `' '3 task runs' \
	'1 to 100' '`square.0` to `square.99`' '`square.0` prints `1`' '`square.99` prints `10000`' \
	'101 task runs' '`results/0` is `100 338350`' \
	'exits 3' '`tasks/check/exit_code` is 3' '`tasks/check/stderr` is `input is missing`' \
	'`checking the input`' 'WAITING with 0 attempts' '`No data available`'; do
	assert_contains "$readme" "$fact" "examples/README.md"
done
for f in "$EX"/*.json; do
	jq -e . "$f" >/dev/null || fail "$f is not JSON"
	assert_contains "$readme" "## $(basename "$f")" "examples/README.md has a paragraph for $(basename "$f")"
done

start_runfs in_process

# hello.json
id=$(submit "$EX/hello.json")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
assert_eq "3/3 SUCCEEDED" "$(rd "$R/progress")" "hello: progress"
cmp -s <(rd "$R/tasks/greet/stdout") <(printf 'Hello, world!\n') || fail "hello: greet does not print 'Hello, world!\\n'"
assert_eq 14 "$(rd "$R/tasks/greet/stdout" | wc -c)" "hello: greet's output size"
cmp -s <(rd "$R/tasks/shout/inputs/text") <(printf 'Hello, world!') || fail "hello: shout's input is not greet's text without the newline"
cmp -s <(rd "$R/results/0") <(printf 'HELLO, WORLD!') || fail "hello: results/0 is not 'HELLO, WORLD!'"
path=$(rd "$R/tasks/size/inputs/file")
[[ $path == "$DATA"/* ]] || fail "hello: size's input $path is not in the data directory"
cmp -s <(rd "$R/results/1") <(printf '14 %s\n' "$path") || fail "hello: results/1 is not '14 $path'"
assert_eq greet "$(rd "$R/tasks/shout/parents")" "hello: shout/parents"
assert_eq greet "$(rd "$R/tasks/size/parents")" "hello: size/parents"

# fanout.json
id=$(submit "$EX/fanout.json")
wait_state "$id" SUCCEEDED
R=$MNT/runs/$id
assert_eq 101 "$(json "$R/status.json" .tasks.total)" "fanout: task runs"
tasks=$(timeout "$TO" ls "$R/tasks")
assert_eq "$(seq 0 99 | sed 's/^/square./' | sort)" "$(grep '^square\.' <<<"$tasks" | sort)" "fanout: the copies"
assert_eq 1 "$(rd "$R/tasks/square.0/stdout")" "fanout: square.0 prints"
assert_eq 10000 "$(rd "$R/tasks/square.99/stdout")" "fanout: square.99 prints"
assert_eq "100 338350" "$(rd "$R/results/0")" "fanout: results/0"
assert_eq "$(seq 0 99 | sed 's/^/square./' | sort)" "$(rd "$R/tasks/total/parents" | sort)" "fanout: total/parents"

# failing.json
id=$(submit "$EX/failing.json")
wait_state "$id" FAILED
R=$MNT/runs/$id
msg=$(rd "$R/message")
assert_contains "$msg" "check" "failing: message names the task"
assert_contains "$msg" "3" "failing: message gives the exit status"
assert_eq FAILED "$(rd "$R/tasks/check/status")" "failing: check/status"
assert_eq 3 "$(rd "$R/tasks/check/exit_code")" "failing: check/exit_code"
assert_eq "input is missing" "$(rd "$R/tasks/check/stderr")" "failing: check/stderr"
assert_eq "checking the input" "$(rd "$R/tasks/check/stdout")" "failing: check/stdout"
assert_eq WAITING "$(rd "$R/tasks/report/status")" "failing: report/status"
assert_eq 0 "$(rd "$R/tasks/report/attempts")" "failing: report/attempts"
assert_contains "$(read_error "$R/results/0")" "No data available" "failing: results/0"
