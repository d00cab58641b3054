#!/usr/bin/env bash
# Finding runs: index (one tab-separated line per run, read with awk, cut
# and sort), by-state/<STATE>/ links that move when a run fails, runs/
# listed newest first by ls -t, and runfs runs with its filters.
. "$(dirname "$0")/lib.sh"

start_runfs in_process

# An empty mount: an empty index and every state's folder, empty.
assert_eq 0 "$(rd "$MNT/index" | wc -c)" "the index of an empty mount"
assert_eq "FAILED KILLED RUNNING SUCCEEDED TERMINATED UNKNOWN WAITING" \
	"$(timeout "$TO" ls "$MNT/by-state" | tr '\n' ' ' | sed 's/ $//')" "by-state/ lists every state"
assert_eq 0 "$(count_entries "$MNT/by-state/FAILED")" "by-state/FAILED, empty"
assert_eq "" "$(timeout "$TO" find "$MNT/by-state" -type l)" "no links yet"

# A run that holds until told, then fails.
gate=$T/gate
cat >"$T/hold-fail.json" <<EOF2
{"name": "holdfail",
 "tasks": {"hold": {"command": ["sh", "-c", "while [ ! -e \"\$0\" ]; do sleep 0.05; done; exit 4", "$gate", "$TOKEN"]}},
 "steps": [{"id": "hold", "task": "hold"}]}
EOF2

hello=$(submit "$SRCDIR/examples/hello.json")
wait_state "$hello" SUCCEEDED
sleep 0.02
held=$(submit "$T/hold-fail.json")
wait_state "$held" RUNNING
sleep 0.02
prepared=$(submit "$SRCDIR/examples/fanout.json" prepare)

# by-state: each run in its state's folder, a symlink into runs/.
assert_eq "$held" "$(timeout "$TO" ls "$MNT/by-state/RUNNING")" "by-state/RUNNING"
assert_eq "$prepared" "$(timeout "$TO" ls "$MNT/by-state/WAITING")" "by-state/WAITING"
assert_eq "$hello" "$(timeout "$TO" ls "$MNT/by-state/SUCCEEDED")" "by-state/SUCCEEDED"
assert_eq "../../runs/$held" "$(timeout "$TO" readlink "$MNT/by-state/RUNNING/$held")" "the link's target"
assert_eq RUNNING "$(rd "$MNT/by-state/RUNNING/$held/status")" "read through the link"
assert_match '^l' "$(timeout "$TO" ls -l "$MNT/by-state/RUNNING" | tail -1)" "ls -l shows a link"
[[ -d $MNT/by-state/RUNNING/$held/tasks ]] || fail "the link does not lead to the run's folder"

# The index: six tab-separated fields per line, oldest first.
idx=$(rd "$MNT/index")
assert_eq 3 "$(printf '%s\n' "$idx" | wc -l)" "index lines"
assert_eq "6 6 6" "$(awk -F'\t' '{print NF}' <<<"$idx" | tr '\n' ' ' | sed 's/ $//')" "fields per line"
assert_eq "$hello $held $prepared" "$(cut -f1 <<<"$idx" | tr '\n' ' ' | sed 's/ $//')" "ids, oldest first"
assert_eq "$(timeout "$TO" ls "$MNT/runs" | sort)" "$(cut -f1 <<<"$idx" | sort)" "the index lists exactly runs/"
assert_eq "SUCCEEDED in_process 3/3" "$(awk -F'\t' -v id="$hello" '$1 == id {print $2, $3, $6}' <<<"$idx")" "hello's line"
assert_eq "RUNNING 0/1 -" "$(awk -F'\t' -v id="$held" '$1 == id {print $2, $6, $5}' <<<"$idx")" "the running run's line"
assert_eq "WAITING - - 0/101" "$(awk -F'\t' -v id="$prepared" '$1 == id {print $2, $4, $5, $6}' <<<"$idx")" "the prepared run's line"
assert_match "$ISO8601" "$(awk -F'\t' -v id="$hello" '$1 == id {print $4}' <<<"$idx")" "started"
assert_match "$ISO8601" "$(awk -F'\t' -v id="$hello" '$1 == id {print $5}' <<<"$idx")" "ended"
assert_eq "$held" "$(sort -t$'\t' -k2,2 <<<"$idx" | head -1 | cut -f1)" "sort by state"
assert_eq "$(rd "$MNT/index" | wc -c)" "$(timeout "$TO" stat -c %s "$MNT/index")" "the index's size"

# The run fails: its link moves from RUNNING to FAILED, and a path walked
# before (the kernel's cache) does not keep the old one.
ls_before=$(timeout "$TO" ls -l "$MNT/by-state/RUNNING/")
assert_contains "$ls_before" "$held" "RUNNING before"
touch "$gate"
wait_state "$held" FAILED
assert_eq 0 "$(count_entries "$MNT/by-state/RUNNING")" "by-state/RUNNING after the failure"
assert_eq "$held" "$(timeout "$TO" ls "$MNT/by-state/FAILED")" "by-state/FAILED after the failure"
[[ ! -e $MNT/by-state/RUNNING/$held ]] || fail "the old link is still there"
if timeout "$TO" readlink "$MNT/by-state/RUNNING/$held" >/dev/null 2>&1; then
	fail "readlink of the old link succeeded"
fi
assert_eq FAILED "$(rd "$MNT/by-state/FAILED/$held/status")" "read through the new link"
assert_eq "FAILED 1/1" "$(rd "$MNT/index" | awk -F'\t' -v id="$held" '$1 == id {print $2, $6}')" "the index follows"
assert_eq "$held" "$(rd "$MNT/index" | awk -F'\t' '$2 == "FAILED" {print $1}')" "awk: the failed runs"

# ls -t: newest first; a run folder's mtime is when the run was made.
assert_eq "$prepared $held $hello" "$(timeout "$TO" ls -t "$MNT/runs" | tr '\n' ' ' | sed 's/ $//')" "ls -t runs"
assert_eq "$hello" "$(timeout "$TO" ls -tr "$MNT/runs" | head -1)" "ls -tr runs: the oldest first"
created=$(json "$MNT/runs/$hello/status.json" .created)
assert_eq "$(date -d "$created" +%s)" "$(timeout "$TO" stat -c %Y "$MNT/runs/$hello")" "a run folder's mtime"
newest=$(date -d "$(json "$MNT/runs/$prepared/status.json" .created)" +%s)
assert_eq "$newest" "$(timeout "$TO" stat -c %Y "$MNT/runs")" "runs/ changed when the newest run was made"

# runfs runs: newest first, filters, table or TSV.
cli() { timeout 30 "$RUNFS" "$@" --mount "$MNT"; }
table=$(cli runs)
assert_eq "ID STATE CONFIG STARTED ENDED DONE/TOTAL" "$(head -1 <<<"$table" | tr -s ' ')" "the table's header"
assert_eq "$prepared $held $hello" "$(awk 'NR > 1 {print $1}' <<<"$table" | tr '\n' ' ' | sed 's/ $//')" "runs, newest first"
assert_eq "$(rd "$MNT/index" | tac)" "$(cli runs --tsv)" "--tsv: the index's lines, newest first"
assert_eq "$prepared $held" "$(cli runs --tsv --limit 2 | cut -f1 | tr '\n' ' ' | sed 's/ $//')" "--limit 2"
assert_eq "" "$(cli runs --tsv --limit 0)" "--limit 0"
assert_eq "$held" "$(cli runs --tsv --state FAILED | cut -f1)" "--state FAILED"
assert_eq "$prepared $held" "$(cli runs --tsv --state FAILED --state WAITING | cut -f1 | tr '\n' ' ' | sed 's/ $//')" "--state twice"
assert_eq "$hello" "$(cli runs --tsv --state SUCCEEDED --limit 1 | cut -f1)" "--state with --limit"
# --max-age: runs made over 2 s ago are left out.
sleep 3.1
fresh=$(submit "$SRCDIR/examples/hello.json")
wait_state "$fresh" SUCCEEDED
assert_eq "$fresh" "$(cli runs --tsv --max-age 2s | cut -f1)" "--max-age 2s"
assert_eq 4 "$(cli runs --tsv --max-age 1d2h3m4s | wc -l)" "--max-age 1d2h3m4s"
for bad in "--state DONE" "--limit -1" "--max-age 5x" "--max-age" "--frob"; do
	rc=0
	# shellcheck disable=SC2086
	out=$(cli runs $bad 2>&1) || rc=$?
	assert_eq 2 "$rc" "runfs runs $bad: a usage error"
	assert_contains "$out" "usage: runfs runs" "runfs runs $bad: says how"
done

stop_runfs
check_stderr
echo "PASS: $TEST_NAME"
