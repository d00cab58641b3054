#!/usr/bin/env bash
# configs/: the built-ins are read-only; JSON written to a new or existing
# name saves a remote configuration after validation (a refusal fails the
# write, and the reason can be read back); rm removes; default is
# writable; changes to the config file show at once; the token never shows.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$T/xdg
SECRET="tok-$TOKEN-secret"
C=$MNT/configs
start_runfs in_process

assert_eq "default
in_process
local" "$(timeout 10 ls "$C")" "configs/ at first"
assert_eq in_process "$(rd "$C/default")" "configs/default"
assert_eq in_process "$(jq -r .runtime <"$C/in_process")" "in_process's runtime"
assert_contains "$(write_error "$C/in_process" '{}')" "Permission denied" "writing "$C/in_process""
err=$(timeout 10 rm "$C/local" 2>&1) && fail "rm of a built-in succeeded"
assert_contains "$err" "Permission denied" "rm of a built-in"

# Saving: a new name, then over it.
printf '{"uri": "https://hpc.example.org:6820", "token": "%s", "user": "alice"}\n' "$SECRET" >"$C/hpc" ||
	fail "saving hpc failed"
assert_eq "hpc" "$(timeout 10 ls "$C" | grep hpc)" "hpc is listed"
assert_eq "***" "$(jq -r .token <"$C/hpc")" "the token as shown"
assert_eq "alice" "$(jq -r .user <"$C/hpc")" "the user"
assert_eq "v0.0.38" "$(jq -r .api_version <"$C/hpc")" "the default API version"
assert_eq 600 "$(stat -c %a "$C/hpc")" "a saved configuration's mode"
check_sizes "$C"
printf '{"uri": "https://hpc.example.org:6820", "token": "%s", "partition": "debug"}\n' "$SECRET" >"$C/hpc" ||
	fail "saving over hpc failed"
assert_eq "debug" "$(jq -r .partition <"$C/hpc")" "the saved-over partition"
assert_eq 600 "$(stat -c %a "$XDG_CONFIG_HOME/runfs/config.json")" "the config file's mode"

# Refusals: the write fails with EINVAL, nothing is saved, the reason
# reads back from the same open file.
for bad in '{"uri": "ftp://x.example", "token": "t"}' '{"uri": "https://x.example"}' \
	'{"uri": "https://x.example", "token": "t", "colour": "red"}' '[1, 2]'; do
	assert_contains "$(write_error "$C/bad" "$bad")" "Invalid argument" "writing "$C/bad""
done
[[ ! -e $C/bad ]] || fail "a refused configuration was saved"
ans=$(timeout 10 bash -c 'exec 3<>"$1"; printf "%s" "{\"token\": \"t\"}" >&3; read -r a <&3; echo "$a"' x "$C/bad")
assert_eq "error: uri: required field is missing" "$ans" "the reason read back"
grep -q "configuration bad not saved" "$RUNFS_LOG" || fail "the refusal is not logged"

# default: writable, checked.
assert_contains "$(write_error "$C/default" "nope")" "Invalid argument" "writing "$C/default""
assert_eq in_process "$(rd "$C/default")" "default after a refused write"
wr "$C/default" "in_process"

# The config file changed by someone else shows at once.
jq --arg t "$SECRET" '.configs.other = {runtime: "slurm", uri: "http://o.example", token: $t}' \
	"$XDG_CONFIG_HOME/runfs/config.json" >"$T/new.json"
mv "$T/new.json" "$XDG_CONFIG_HOME/runfs/config.json"
assert_eq "http://o.example" "$(jq -r .uri <"$C/other")" "a configuration saved outside the mount"

# A definition naming an unknown configuration is refused with the list.
jq '.config = "nowhere"' "$SRCDIR/examples/hello.json" >"$T/nowhere.json"
ans=$(submit_raw "$T/nowhere.json" || true)
assert_eq 'error: config: unknown configuration "nowhere" (known: in_process, local, hpc, other)' \
	"$ans" "submit to an unknown configuration"

# rm removes.
timeout 10 rm "$C/other" || fail "rm configs/other failed"
[[ ! -e $C/other ]] || fail "configs/other is still there"

# The token is nowhere to be seen.
if grep -r -- "$SECRET" "$C" "$RUNFS_LOG" 2>/dev/null; then
	fail "the token shows in the mount or the log"
fi
