#!/usr/bin/env bash
# tasks/<t>/usage: what a task run's latest attempt used, from wait4() on
# the in_process and local runtimes (wall, user and system CPU, peak
# resident memory, exit status), every field null for a task run that
# never ran; status.json sums them for the run.
. "$(dirname "$0")/lib.sh"

MB=$((1024 * 1024))
for config in in_process local; do
	start_runfs "$config"
	jq -n --arg c "$config" '{
	  name: "usage", config: $c,
	  tasks: {
	    big: {command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"]},
	    spin: {command: ["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exit 3"]},
	    after: {command: ["true", "{x}"]}},
	  steps: [{id: "big", task: "big"}, {id: "spin", task: "spin"},
	          {id: "after", task: "after", args: {x: {from: "spin"}}}]
	}' >"$T/usage.json"
	id=$(submit "$T/usage.json")
	R=$MNT/runs/$id
	wait_task_state "$id" big SUCCEEDED
	wait_task_state "$id" spin FAILED
	# Never run (its parent failed): every field null.
	assert_eq "null null null null" "$(json "$R/tasks/after/usage" '"\(.wall_s) \(.user_s) \(.max_rss_bytes) \(.exit_status)"')" \
		"$config: usage of a task run not run yet"
	u=$(rd "$R/tasks/big/usage")
	note "$config: big: $(jq -c . <<<"$u")"
	jq -e --argjson mb "$MB" '.max_rss_bytes >= 200 * $mb and .exit_status == 0 and .measured_by == "wait4"
	    and .wall_s >= 0 and .user_s >= 0 and .system_s > 0' <<<"$u" >/dev/null ||
		fail "$config: big's usage: $u"
	u=$(rd "$R/tasks/spin/usage")
	note "$config: spin: $(jq -c . <<<"$u")"
	jq -e '.exit_status == 3 and .user_s > 0 and .wall_s >= .user_s / 2' <<<"$u" >/dev/null ||
		fail "$config: spin's usage: $u"
	assert_eq FAILED "$(timeout "$TO" cat "$R/wait")" "$config: the run"
	s=$(rd "$R/status.json")
	note "$config: status.json usage: $(jq -c .usage <<<"$s")"
	jq -e --argjson mb "$MB" '.usage.measured == 2 and .usage.max_rss_bytes >= 200 * $mb
	    and .usage.user_s > 0' <<<"$s" >/dev/null || fail "$config: status.json's usage: $(jq -c .usage <<<"$s")"
	# The sum is the sum of the task runs' figures.
	sum=$(for t in big spin; do json "$R/tasks/$t/usage" .user_s; done | awk '{s += $1} END {printf "%.3f", s}')
	assert_eq "$sum" "$(jq -r '.usage.user_s | . * 1000 | round / 1000 | tostring' <<<"$s" | awk '{printf "%.3f", $1}')" \
		"$config: user_s summed"
	stop_runfs
done
check_stderr
echo "PASS: $TEST_NAME"
