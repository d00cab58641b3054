#!/usr/bin/env bash
# 20 submits at the same time, each through its own open file of M/submit,
# with their writes interleaved: 20 distinct ids, each run gets its own
# definition, all succeed.
. "$(dirname "$0")/lib.sh"

N=20
start_runfs in_process

for ((k = 0; k < N; k++)); do
	jq -n --arg k "$k" '{
	  name: "conc",
	  tasks: {say: {command: ["echo", "run", "{k}"]}},
	  steps: [{id: "say", task: "say", args: {k: $k}}],
	  results: [{from: "say"}]
	}' >"$T/def.$k.json"
done

# Each writer opens M/submit, writes the first half of its definition, waits
# until every writer has done as much, then writes the second half and reads
# its answer on the same open file. While its file is open it never forks
# and never closes a copy of the descriptor: every close of a copy is a
# "close" to the filesystem (FUSE flush), which submits what was written.
cat >"$T/writer.sh" <<'WRITER'
set -u
def=$1 out=$2 sync=$3 n=$4 mnt=$5
IFS= read -r -d '' all <"$def" || true
half=$((${#all} / 2))
mkfifo "$sync.fifo.$BASHPID"
exec {nap}<>"$sync.fifo.$BASHPID" # read -t on it sleeps without a fork
exec {fd}<>"$mnt/submit" {keep}>&1 1>&"$fd"
printf '%s' "${all:0:half}"
: 3>"$sync.ready.$BASHPID"
for ((i = 0; i < 400; i++)); do
	ready=("$sync".ready.*)
	((${#ready[@]} >= n)) && break
	read -r -t 0.05 -u "$nap" _ || true
done
printf '%s' "${all:half}"
IFS= read -r -t 10 -u "$fd" line || line="(no answer: status $?)"
exec 1>&"$keep" {fd}>&-
printf '%s\n' "$line" >"$out"
WRITER

pids=()
for ((k = 0; k < N; k++)); do
	timeout 30 bash "$T/writer.sh" "$T/def.$k.json" "$T/id.$k" "$T/sync" "$N" "$MNT" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a concurrent submit failed (status $?)"
done
assert_eq "$N" "$(find "$T" -maxdepth 1 -name 'sync.ready.*' | wc -l)" "writers that wrote a first half"

ids=()
for ((k = 0; k < N; k++)); do
	id=$(cat "$T/id.$k")
	assert_match "$RUN_ID_RE" "$id" "answer of submit $k"
	ids+=("$id")
done
assert_eq "$N" "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" "distinct run ids"
assert_eq "$N" "$(count_entries "$MNT/runs")" "entries in runs/"

for ((k = 0; k < N; k++)); do
	wait_state "${ids[k]}" SUCCEEDED
	assert_eq "run $k" "$(rd "$MNT/runs/${ids[k]}/results/0")" "results/0 of submit $k"
	cmp -s <(rd "$MNT/runs/${ids[k]}/definition.json") "$T/def.$k.json" ||
		fail "definition.json of submit $k is not what it wrote"
done
