#!/usr/bin/env bash
# A saved Slurm configuration as users live with it, on the real
# single-node Slurm (scripts/slurm-up): logged in with the token from a
# file, mounted by its name (the mount's default), a run submitted without
# naming a configuration; then a login again with only the token, from
# standard input, which keeps every other field, and another run. The
# token shows in no process's argv, file, log or the work directory. A
# token that has expired is refused at submit.
. "$(dirname "$0")/lib.sh"

slurm_lab --account runfs-ci
assert_contains "$(<"$T/login.out")" "accepted the token" "runfs login with --token-file"

# Mounted by name: the default of the mount, and where its runs go.
start_runfs lab
assert_eq lab "$(rd "$MNT/configs/default")" "the default of a mount of lab"
id=$(submit "$SRCDIR/examples/hello.json")
assert_eq lab "$(rd "$MNT/runs/$id/config")" "the configuration of a run submitted to a mount of lab"
# While it runs on Slurm: no process of this machine carries the token.
for f in /proc/[0-9]*/cmdline; do
	if tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$SLURM_JWT"; then
		fail "the token is in the argv of process ${f#/proc/}: $(tr '\0' ' ' <"$f" | cut -c1-80)"
	fi
done
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id/wait")" "hello on a mount of lab"
assert_eq "HELLO, WORLD!" "$(rd "$MNT/runs/$id/results/0")" "hello's first result"
# What a Slurm job used, as its script measured it; memory is not known.
u=$(rd "$MNT/runs/$id/tasks/greet/usage")
note "greet's usage on Slurm: $(jq -c . <<<"$u")"
jq -e '.measured_by == "job script" and .exit_status == 0 and .wall_s >= 0 and .user_s >= 0
    and .system_s >= 0 and .max_rss_bytes == null' <<<"$u" >/dev/null || fail "greet's usage on Slurm: $u"
assert_eq 3 "$(json "$MNT/runs/$id/status.json" .usage.measured)" "status.json's usage.measured"
stop_runfs

# A login again with only the token, from standard input.
timeout 30 "$RUNFS" login lab --token - <"$T/jwt" >"$T/login.out" 2>&1 ||
	fail "runfs login lab --token -: $(<"$T/login.out")"
assert_contains "$(<"$T/login.out")" "accepted the token" "runfs login again"
assert_eq "$SLURM_REST_USER debug $SLURM_WORKDIR runfs-ci" \
	"$(timeout 10 "$RUNFS" config show lab | jq -r '"\(.user) \(.partition) \(.workdir) \(.account)"')" \
	"the entry after a login with only the token"
start_runfs lab
id2=$(submit "$SRCDIR/examples/hello.json")
assert_eq SUCCEEDED "$(timeout 60 cat "$MNT/runs/$id2/wait")" "hello after the login again"
assert_contains "$(json "$MNT/runs/$id/status.json" .state)" SUCCEEDED "the first run, seen again"
stop_runfs

# A token that has expired (a JWT whose exp has passed; runfs reads exp
# without verifying): a submit is refused at once, and nothing reaches Slurm.
payload=$(printf '{"exp":%d,"sun":"root"}' $(($(date +%s) - 60)) | base64 -w0 | tr '+/' '-_' | tr -d '=')
printf 'eyJhbGciOiJIUzI1NiJ9.%s.c2ln\n' "$payload" >"$T/expired"
timeout 30 "$RUNFS" login lab --token-file "$T/expired" >"$T/login.out" 2>&1 || true
start_runfs lab
jobs_before=$(scontrol show job --oneliner | wc -l)
assert_match '^error: token expired at .*; run runfs login$' "$(submit_raw "$SRCDIR/examples/hello.json" || true)" \
	"a submit with an expired token"
assert_eq "$jobs_before" "$(scontrol show job --oneliner | wc -l)" "jobs Slurm knows after the refusal"
assert_eq 2 "$(rd "$MNT/index" | wc -l)" "runs recorded after the refusal"
stop_runfs

for place in "$DATA" "$SLURM_WORKDIR/runs/$id" "$SLURM_WORKDIR/runs/$id2" "$T/login.out" "${RUNFS_LOGS[@]}"; do
	[[ -e $place ]] || continue
	grep -rqF -- "$SLURM_JWT" "$place" 2>/dev/null && fail "the token shows in $place"
done
check_stderr
echo "PASS: $TEST_NAME"
