#!/usr/bin/env bash
# A store of schema 6 (before runs could be deleted: runs numbered without
# AUTOINCREMENT, no rerun mark, auto_vacuum off; and before the store kept
# the cache's keys: files logs.d/<task>.cache) is upgraded at start: its
# runs stay, a deleted run's number never comes back, deleted runs give
# their space back, rerun works on an old run, and an old cached run's
# cache_key and cached_from read from its files.
. "$(dirname "$0")/lib.sh"

start_runfs in_process
ids=()
for _ in 1 2 3; do ids+=("$(submit "$SRCDIR/examples/hello.json")"); done
for id in "${ids[@]}"; do wait_state "$id" SUCCEEDED; done
jq '.cache = true' "$SRCDIR/examples/hello.json" >"$T/cached.json"
c1=$(submit "$T/cached.json")
wait_state "$c1" SUCCEEDED
c2=$(submit "$T/cached.json")
wait_state "$c2" SUCCEEDED
key=$(rd "$MNT/runs/$c2/tasks/greet/cache_key")
[[ $key =~ ^[0-9a-f]{64}$ ]] || fail "greet's cache_key: $key"
from=$(readlink "$MNT/runs/$c2/tasks/greet/cached_from")
stop_runfs
# Back to schema 6, as a runfs of before left it.
python3 - "$DATA/runfs.db" "$DATA" <<'PY' || fail "cannot make a schema 6 store"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
# The cache's records go back to the files runfs kept them in.
for run, task, record in c.execute("SELECT r.id, t.id, k.record FROM cache_keys k"
        " JOIN runs r ON r.seq = k.run_seq JOIN tasks t ON t.run_seq = k.run_seq AND t.idx = k.idx"):
    with open(f"{sys.argv[2]}/runs/{run}/logs.d/{task}.cache", "w") as f:
        f.write(record)
c.execute("DROP TABLE cache_keys")
triggers = [r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")]
c.executescript("""
PRAGMA auto_vacuum = 0;
DROP TRIGGER tasks_done; DROP TRIGGER tasks_done_new;
CREATE TABLE runs6(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  config TEXT NOT NULL, state INTEGER NOT NULL, prepared INTEGER NOT NULL, owner INTEGER NOT NULL,
  created INTEGER NOT NULL, started INTEGER NOT NULL, ended INTEGER NOT NULL,
  updated INTEGER NOT NULL, message TEXT, ntasks INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
INSERT INTO runs6 SELECT seq, id, name, config, state, prepared, owner, created, started, ended,
  updated, message, ntasks, done FROM runs;
DROP TABLE runs; ALTER TABLE runs6 RENAME TO runs; CREATE INDEX runs_state ON runs(state);
""")
for t in triggers:
    c.execute(t)
c.execute("PRAGMA user_version = 6")
c.commit()
c.execute("VACUUM")
PY
sql() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DATA/runfs.db" "$1"; }
assert_eq "6 0" "$(sql 'PRAGMA user_version') $(sql 'PRAGMA auto_vacuum')" "the store made old"

start_runfs in_process
assert_contains "$(cat "$RUNFS_LOG")" "schema upgraded from version 6 to 8" "the daemon's log"
assert_eq "8 2" "$(sql 'PRAGMA user_version') $(sql 'PRAGMA auto_vacuum')" "the store after the upgrade"
assert_eq "$(printf '%s\n' "${ids[@]}" "$c1" "$c2" | sort)" "$(ls "$MNT/runs")" "the runs after the upgrade"
assert_eq "$key $from" "$(rd "$MNT/runs/$c2/tasks/greet/cache_key") $(readlink "$MNT/runs/$c2/tasks/greet/cached_from")" \
	"an old cached run's cache_key and cached_from, from its files"
jq -e '.argv | length > 0' <"$MNT/runs/$c2/tasks/greet/cache_key.json" >/dev/null || fail "an old run's cache_key.json"
c3=$(submit "$T/cached.json")
wait_state "$c3" SUCCEEDED
assert_eq "3/3 SUCCEEDED (3 cached)" "$(rd "$MNT/runs/$c3/progress")" "a run after the upgrade hits the old entries"
assert_eq "$key" "$(rd "$MNT/runs/$c3/tasks/greet/cache_key")" "the same key after the upgrade"
newest=$(sql "SELECT seq FROM runs WHERE id = '${ids[2]}'")
timeout "$TO" rmdir "$MNT/runs/${ids[2]}" || fail "rmdir of the newest old run"
id=$(submit "$SRCDIR/examples/hello.json")
wait_state "$id" SUCCEEDED
(($(sql "SELECT seq FROM runs WHERE id = '$id'") > newest)) || fail "the deleted run's number came back"
wr "$MNT/runs/${ids[0]}/tasks/shout/ctl" rerun || fail "rerun on an old run"
wait_state "${ids[0]}" SUCCEEDED
assert_eq 2 "$(rd "$MNT/runs/${ids[0]}/tasks/shout/attempts")" "shout's attempts after the rerun"
assert_eq 1 "$(rd "$MNT/runs/${ids[0]}/tasks/greet/attempts")" "greet's attempts after the rerun"
stop_runfs
check_stderr
