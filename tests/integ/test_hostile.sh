#!/usr/bin/env bash
# Hostile definitions through the mount: each one is refused with a clear
# error naming what is wrong, nothing is recorded, and the daemon goes on
# serving. (The short variant of issue 9's hostile-input suite.)
. "$(dirname "$0")/lib.sh"

start_runfs in_process
n=0
T_OK='"tasks": {"t": {"command": ["true"]}}'

# refuse NAME EXPECTED: submits $T/def and checks the answer is an error
# containing EXPECTED.
refuse() {
	local out rc=0
	out=$(submit_raw "$T/def") || rc=$?
	[[ -z ${SHOW:-} ]] || echo "$1 => ${out:0:150}" >&2
	[[ $out == "error: "* ]] || fail "$1: expected a refusal, got $(_q "$out") (status $rc)"
	[[ -n ${SHOW:-} ]] || assert_contains "$out" "$2" "$1"
	n=$((n + 1))
}
# def TEXT: the next definition (printf %b: \xNN makes raw bytes).
def() { printf '%b' "$1" >"$T/def"; }
step() { def "{\"name\": \"h\", $T_OK, \"steps\": [$1]}"; }

def 'hello'; refuse "not JSON" "line 1"
def '  \n\t'; refuse "blanks only" "empty"
def '[]'; refuse "an array" "expected an object"
def '42'; refuse "a number" "expected near '42'"
def '"text"'; refuse "a string" "expected near"
def '{'; refuse "cut short" "end of file"
python3 -c 'print("[" * 200000 + "]" * 200000)' >"$T/def"; refuse "nesting 200,000 deep" "depth"
python3 -c 'print("{\"a\":" * 200000 + "1" + "}" * 200000)' >"$T/def"; refuse "objects 200,000 deep" "depth"
def '{"name": "h\\u0000x", "tasks": {}, "steps": []}'; refuse "NUL in a name" "NUL"
def '{"name": "h\xff\xfe", "tasks": {}, "steps": []}'; refuse "invalid UTF-8" "decode"
def '{"name": "h", "tasks": {"t\xc3": {"command": ["true"]}}, "steps": []}'; refuse "invalid UTF-8 in a key" "decode"
def '{"name": "Hello", '"$T_OK"', "steps": [{"id": "a", "task": "t"}]}'; refuse "upper case in a name" "name"
def "{\"name\": \"$(printf 'n%.0s' {1..65})\", $T_OK, \"steps\": [{\"id\": \"a\", \"task\": \"t\"}]}"; refuse "a name of 65" "name"
def '{"name": "../x", '"$T_OK"', "steps": [{"id": "a", "task": "t"}]}'; refuse "a name with a slash" "name"
step '{"id": "a/b", "task": "t"}'; refuse "an id with /" 'bad id "a/b"'
step '{"id": "..", "task": "t"}'; refuse "an id .." "bad id"
step '{"id": ".", "task": "t"}'; refuse "an id ." "bad id"
step '{"id": "a\\u0001b", "task": "t"}'; refuse "an id with a control byte" "bad id"
step '{"id": "a\\u0000b", "task": "t"}'; refuse "an id with NUL" "NUL"
step '{"id": "a b", "task": "t"}'; refuse "an id with a space" "bad id"
step '{"id": "", "task": "t"}'; refuse "an empty id" "bad id"
step "{\"id\": \"$(printf 'i%.0s' {1..129})\", \"task\": \"t\"}"; refuse "an id of 129" "bad id"
def '{"name": "h", "tasks": {"a/b": {"command": ["true"]}}, "steps": [{"id": "a", "task": "a/b"}]}'; refuse "a task name with /" "a/b"
def '{"name": "h", '"$T_OK"', "steps": [{"id": "a", "task": "t"}], "frob": 1}'; refuse "an unknown field" "frob"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "frob": 1}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "an unknown task field" "frob"
step '{"id": "a", "task": "t", "frob": 1}'; refuse "an unknown step field" "frob"
def '{"name": "h", "steps": [{"id": "a", "task": "t"}]}'; refuse "no tasks" "tasks"
def '{"name": "h", '"$T_OK"'}'; refuse "no steps" "steps"
def '{"name": "h", '"$T_OK"', "steps": {}}'; refuse "steps not a list" "steps"
def '{"name": "h", "tasks": {"t": {"command": []}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "an empty command" "command"
def '{"name": "h", "tasks": {"t": {"command": "true"}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a command that is a string" "command"
def '{"name": "h", "tasks": {"t": {"command": ["echo", 1]}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a number in a command" "command"
step '{"id": "a", "task": "nope"}'; refuse "an unknown task" "nope"
def '{"name": "h", "tasks": {"t": {"command": ["echo", "{x}"]}}, "steps": [{"id": "a", "task": "t", "args": {"x": {"from": "zz"}}}]}'; refuse "an unknown step in from" "zz"
def '{"name": "h", "tasks": {"t": {"command": ["echo", "{x}"]}}, "steps": [{"id": "a", "task": "t", "args": {"x": {"from": "a"}}}]}'; refuse "a step using itself" "cycle"
def '{"name": "h", "tasks": {"t": {"command": ["echo", "{x}"]}}, "steps": [{"id": "a", "task": "t", "args": {"x": {"from": "b"}}}, {"id": "b", "task": "t", "args": {"x": {"from": "a"}}}]}'; refuse "a cycle" "cycle"
step '{"id": "a", "task": "t"}, {"id": "a", "task": "t"}'; refuse "an id twice" 'duplicate id "a"'
def '{"name": "h", "tasks": {"t": {"command": ["echo", "{x}"]}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a missing argument" "x"
def '{"name": "h", "tasks": {"t": {"command": ["true"]}}, "steps": [{"id": "a", "task": "t", "args": {"y": 1}}]}'; refuse "an argument the task has not" "y"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "retries": -1}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "negative retries" "retries"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "retries": 99999999999}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "retries out of range" "retries"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "retries": 1.5}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "fractional retries" "retries"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "timeout": -5}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a negative timeout" "timeout"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "timeout": 1e400}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a number out of range" "overflow"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "resources": {"memory": "lots"}}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "a bad memory quantity" "memory"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "resources": {"cpu": 1e300}}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "an absurd cpu count" "cpu"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "env": ["A=1"]}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "env not an object" "env"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "env": {"A": 1}}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "an env value not a string" "env"
def '{"name": "h", "tasks": {"t": {"command": ["true"], "outputs": ["../x"]}}, "steps": [{"id": "a", "task": "t"}]}'; refuse "an output name with /" "outputs"
def '{"name": "h", "config": "nowhere", '"$T_OK"', "steps": [{"id": "a", "task": "t"}]}'; refuse "an unknown configuration" "nowhere"
def '{"name": "h", '"$T_OK"', "steps": [{"id": "a", "task": "t"}], "results": [{"from": "zz"}]}'; refuse "a result of an unknown step" "zz"
def '{"name": "h", "tasks": {"t": {"command": ["echo", "{i}", "{j}"]}}, "steps": [{"id": "a", "task": "t", "foreach": {"i": [1, 2], "j": [1]}}]}'; refuse "foreach lists of two lengths" "foreach"
python3 -c 'import json; print(json.dumps({"name": "h", "tasks": {"t": {"command": ["true", "{i}"]}}, "steps": [{"id": "a", "task": "t", "foreach": {"i": list(range(1100000))}}]}))' >"$T/def"
refuse "a foreach of 1,100,000" "limit"
python3 -c 'import json; print(json.dumps({"name": "h", "tasks": {"t": {"command": ["true"]}}, "steps": [{"id": "s%d" % i, "task": "t"} for i in range(1000000)]}))' >"$T/def"
out=$(submit_raw "$T/def" 2>&1) || true
[[ $out == *"too large"* || $out == "error: "* ]] || fail "1,000,000 steps: got $(_q "$out")"
n=$((n + 1))
# 64 MB: the write itself fails with EFBIG, over the documented 16 MiB.
out=$(timeout 60 bash -c 'head -c 67108864 /dev/zero | tr "\0" " " >"$1"' w "$MNT/submit" 2>&1) && fail "a 64 MB definition was taken"
assert_contains "$out" "File too large" "a 64 MB definition"
n=$((n + 1))

hwm=$(proc_kb "$RUNFS_PID" VmHWM)
rss=$(proc_kb "$RUNFS_PID" VmRSS)
note "$n hostile definitions refused; the daemon's peak RSS $((hwm / 1024)) MiB, now $((rss / 1024)) MiB"
# Bounded: big definitions are parsed one at a time (a 16 MiB one costs
# jansson under 400 MiB) and their memory is given back after.
if sanitized; then
	note "sanitizer or valgrind: memory not checked (integ_test_hostile_plain checks it)"
else
	((hwm < 512 * 1024)) || fail "the daemon's peak RSS was $((hwm / 1024)) MiB (bound: 512)"
	((rss < 128 * 1024)) || fail "the daemon kept $((rss / 1024)) MiB after the hostile definitions (bound: 128)"
fi
((n >= 40)) || fail "only $n cases"
assert_eq 0 "$(count_entries "$MNT/runs")" "nothing recorded"
assert_eq 0 "$(rd "$MNT/index" | wc -c)" "an empty index"
# Still serving: a good definition runs.
id=$(submit "$SRCDIR/examples/hello.json")
wait_state "$id" SUCCEEDED
soak "hostile definitions refused (nothing recorded)" "$n" 0

ALLOW_STDERR+=("refused" "too large" "File too large")
stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
