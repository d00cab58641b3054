#!/usr/bin/env bash
# resources on the runtimes of this machine: a GPU request beyond what the
# mount declares (-o gpus=N, default 0) and a disk request beyond what the
# data directory's filesystem has free are refused at submit, naming the
# field, with nothing recorded; memory is enforced: a task over its limit
# ends FAILED with "out of memory (limit ...)", on in_process and local.
. "$(dirname "$0")/lib.sh"

def() { # def NAME CONFIG RESOURCES COMMAND...: a one-task definition
	local name=$1 config=$2 res=$3
	shift 3
	jq -n --arg n "$name" --arg c "$config" --argjson r "$res" '{name: $n, config: $c,
	  tasks: {t: {command: $ARGS.positional, resources: $r}}, steps: [{id: "t", task: "t"}]}' \
		--args "$@" >"$T/$name.json"
	echo "$T/$name.json"
}

start_runfs in_process
ans=$(submit_raw "$(def gpu in_process '{"gpu": 1}' true)" || true)
assert_eq "error: tasks.t.resources.gpu: 1 GPU asked for; this machine offers 0 (mount with -o gpus=N to say how many it has)" \
	"$ans" "a GPU request on a mount without GPUs"
ans=$(submit_raw "$(def disk in_process '{"disk": "1000Ti"}' true)" || true)
assert_match '^error: tasks\.t\.resources\.disk: 1048576000 MiB asked for; the data directory.s filesystem has [0-9]+ MiB free$' \
	"$ans" "a disk request beyond the free space"
assert_eq "" "$(rd "$MNT/index")" "runs recorded after the refusals"
stop_runfs

start_runfs in_process gpus=1
id=$(submit "$(def gpu1 in_process '{"gpu": 1, "disk": "1Mi"}' true)")
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "a GPU request on a mount with -o gpus=1"
ans=$(submit_raw "$(def gpu2 in_process '{"gpu": 2}' true)" || true)
assert_contains "$ans" "2 GPUs asked for; this machine offers 1" "two GPUs on a mount with one"
stop_runfs

for config in in_process local; do
	start_runfs "$config"
	big=$(submit "$(def "big-${config/_/-}" "$config" '{"memory": "100Mi"}' dd if=/dev/zero of=/dev/null bs=300M count=1)")
	small=$(submit "$(def "small-${config/_/-}" "$config" '{"memory": "100Mi"}' dd if=/dev/zero of=/dev/null bs=10M count=1)")
	assert_eq FAILED "$(timeout 30 cat "$MNT/runs/$big/wait")" "$config: a task over its memory limit"
	assert_eq "out of memory (limit 100 MiB)" "$(rd "$MNT/runs/$big/tasks/t/message")" "$config: its message"
	assert_eq 104857600 "$(json "$MNT/runs/$big/tasks/t/usage" .memory_limit.bytes)" "$config: the limit in usage"
	note "$config: $(json "$MNT/runs/$big/tasks/t/usage" '"peak \(.max_rss_bytes) by \(.memory_limit.by)"')"
	assert_eq SUCCEEDED "$(timeout 30 cat "$MNT/runs/$small/wait")" "$config: a task under its memory limit"
	stop_runfs
done
check_stderr
echo "PASS: $TEST_NAME"
