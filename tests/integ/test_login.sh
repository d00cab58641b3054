#!/usr/bin/env bash
# runfs login as a user lives with it: the token from a file or standard
# input, a login again with only a new token keeps every other field, the
# token's expiry shows as token_expires, a submit with an expired token is
# refused with the reason (nothing recorded), and a saved configuration
# mounts by its name as that mount's default. The token shows nowhere.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$T/xdg
# A JWT with the given exp claim (runfs reads exp without verifying).
jwt() {
	local payload
	payload=$(printf '{"exp":%d,"sun":"alice","tag":"%s"}' "$1" "$TOKEN" | base64 -w0 | tr '+/' '-_' | tr -d '=')
	printf 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.%s.c2lnbmF0dXJl\n' "$payload"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
now=$(date +%s)
jwt $((now + 3600)) >"$T/tok1"
jwt $((now + 7200)) >"$T/tok2"
jwt $((now - 60)) >"$T/expired"
# An address where nothing listens: login warns it could not check.
URL=http://127.0.0.1:9/hpc

login() { # login ARGS...: runfs login, its output in $T/login.out
	timeout 20 "$RUNFS" login "$@" >"$T/login.out" 2>&1 || fail "runfs login $*: $(cat "$T/login.out")"
}
show() { timeout 10 "$RUNFS" config show hpc; }

login "$URL" --name hpc --token-file "$T/tok1" --user alice --partition debug --workdir /scratch/alice
assert_contains "$(cat "$T/login.out")" "saved configuration hpc" "the first login"
assert_eq "alice debug /scratch/alice $(iso $((now + 3600)))" \
	"$(show | jq -r '"\(.user) \(.partition) \(.workdir) \(.token_expires)"')" "after the first login"

# Again, with only a new token, by name: nothing else changes.
login hpc --token-file "$T/tok2"
assert_eq "alice debug /scratch/alice $(iso $((now + 7200)))" \
	"$(show | jq -r '"\(.user) \(.partition) \(.workdir) \(.token_expires)"')" "after a login with a new token"
assert_eq "$(cat "$T/tok2")" "$(jq -r .configs.hpc.token "$XDG_CONFIG_HOME/runfs/config.json")" "the token saved"

# From standard input, and one field changed.
timeout 20 "$RUNFS" login hpc --token - --partition long <"$T/tok1" >"$T/login.out" 2>&1 ||
	fail "runfs login --token -: $(cat "$T/login.out")"
assert_eq "alice long $(iso $((now + 3600)))" "$(show | jq -r '"\(.user) \(.partition) \(.token_expires)"')" \
	"after a login from standard input"

# Refusals: an unknown name without a URL, an empty token file.
rc=0
timeout 20 "$RUNFS" login nope --token-file "$T/tok1" >"$T/out" 2>&1 || rc=$?
((rc != 0)) || fail "a login to an unknown name without a URL succeeded"
assert_contains "$(cat "$T/out")" 'no configuration "nope"' "login to an unknown name"
: >"$T/empty"
rc=0
timeout 20 "$RUNFS" login hpc --token-file "$T/empty" >"$T/out" 2>&1 || rc=$?
((rc != 0)) || fail "a login with an empty token file succeeded"
assert_contains "$(cat "$T/out")" "no token in $T/empty" "login with an empty token file"
assert_eq "$(cat "$T/tok1")" "$(jq -r .configs.hpc.token "$XDG_CONFIG_HOME/runfs/config.json")" \
	"the token after the refusals"

# A saved configuration mounts by its name and is the mount's default;
# configs/hpc shows the expiry.
start_runfs hpc
assert_eq hpc "$(rd "$MNT/configs/default")" "the default of a mount of hpc"
assert_eq "$(iso $((now + 3600)))" "$(json "$MNT/configs/hpc" .token_expires)" "configs/hpc's token_expires"
assert_eq "***" "$(json "$MNT/configs/hpc" .token)" "configs/hpc's token"

# An expired token: submit refuses, saying when and what to do.
login hpc --token-file "$T/expired"
ans=$(submit_raw "$SRCDIR/examples/hello.json" || true)
assert_eq "error: token expired at $(iso $((now - 60))); run runfs login" "$ans" "a submit with an expired token"
assert_contains "$(write_error "$MNT/submit" "$(cat "$SRCDIR/examples/hello.json")")" "Permission denied" \
	"the write of a submit with an expired token"
assert_eq "" "$(rd "$MNT/index")" "runs recorded"
# Another configuration is not held back by it.
jq '.config = "in_process"' "$SRCDIR/examples/hello.json" >"$T/h.json"
id=$(submit "$T/h.json")
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "an in_process run beside it"
stop_runfs

# The token shows in no file of the mount's, no log, no output.
for t in tok1 tok2 expired; do
	grep -rqF -- "$(cut -d. -f2 "$T/$t")" "$DATA" "${RUNFS_LOGS[@]}" "$T/login.out" "$T/out" 2>/dev/null &&
		fail "the token $t shows in a file or log"
done
check_stderr 'submit rejected: token expired'
echo "PASS: $TEST_NAME"
