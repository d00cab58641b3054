#!/usr/bin/env bash
# The bash completion (dist/bash-completion/runfs), in a non-interactive
# bash that sources it, with bash-completion loaded and without: the
# words it offers for commands (every one of cli/main.c's table), their
# options (as each usage names them), the mount's -o options, saved
# configuration names, states, files, mounts and the run ids of a real
# mount. Each case sets COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD
# as bash does for a line with the cursor at its end (COMP_WORDS split at
# "=" and ":" too) and reads COMPREPLY back.
. "$(dirname "$0")/lib.sh"

COMPLETION=$SRCDIR/dist/bash-completion/runfs
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[[ -r $BASH_COMPLETION ]] || fail "bash-completion is not installed (scripts/install-deps installs it)"
export XDG_CONFIG_HOME=$T/config

cat >"$T/complete.sh" <<'DRIVER'
# bash complete.sh MODE LINE: COMPREPLY for LINE, one word a line; MODE
# "bc" loads bash-completion first.
set -u
[[ $1 == bc ]] && . "$BASH_COMPLETION"
. "$COMPLETION"
line=$2
COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=() COMPREPLY=()
for tok in $line; do
	while [[ $tok == *[=:]* ]]; do
		pre=${tok%%[=:]*}
		[[ -n $pre ]] && COMP_WORDS+=("$pre")
		tok=${tok#"$pre"}
		COMP_WORDS+=("${tok:0:1}")
		tok=${tok:1}
	done
	[[ -n $tok ]] && COMP_WORDS+=("$tok")
done
[[ $line == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
[[ $(complete -p runfs) == *"-F _runfs runfs" ]] || { echo "no completion for runfs" >&2; exit 1; }
_runfs
printf '%s\n' "${COMPREPLY[@]}"
DRIVER
export COMPLETION BASH_COMPLETION

# offers MODE LINE: the words offered, sorted, on one line.
offers() {
	local out
	out=$(timeout 20 bash --norc --noprofile "$T/complete.sh" "$1" "$2") || fail "completing $(_q "$2") ($1) failed"
	sort <<<"$out" | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE WORDS: in both modes, exactly WORDS (sorted, space-separated).
expect() {
	local mode want
	want=$(tr ' ' '\n' <<<"$2" | sort | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//')
	for mode in plain bc; do
		assert_eq "$want" "$(offers "$mode" "$1")" "completion of $(_q "$1") ($mode)"
	done
}

# expect_has LINE WORD...: in both modes, the words offered include each WORD.
expect_has() {
	local mode line=$1 got w
	shift
	for mode in plain bc; do
		got=" $(offers "$mode" "$line") "
		for w in "$@"; do
			assert_contains "$got" " $w " "completion of $(_q "$line") ($mode)"
		done
	done
}

R=runfs
# `runfs` itself, as the shell would find it in PATH.
mkdir -p "$T/bin"
ln -s "$RUNFS" "$T/bin/runfs"
export PATH=$T/bin:$PATH

# Every command of the table, and the built-in configurations.
commands=$(sed -n 's/^ *{"\([a-z]*\)",.*/\1/p' "$SRCDIR/cli/main.c" | tr '\n' ' ')
(($(wc -w <<<"$commands") >= 13)) || fail "cannot read the command table of cli/main.c: $commands"
expect "$R " "$commands in_process local"
expect "$R ru" "runs"
expect "$R co" "config"
expect "$R -" "-f -d -o --help --version"

# Options, as each command's usage names them (up's hidden --grace-ms not).
expect "$R runs --" "--state --limit --max-age --tsv --mount"
expect "$R up --" "--data --jobs --grace --foreground"
expect "$R down --w" "--wait"
expect "$R cache " "prune"
expect "$R config " "list show rm default"
expect "$R runs --state F" "FAILED"
expect "$R tasks x --state " "WAITING RUNNING SUCCEEDED FAILED TERMINATED KILLED UNKNOWN"
expect "$R runs --limit " ""

# The mount's -o options: a comma-separated list, and directories for
# data_dir (the shell shows what follows the last "=").
expect "$R -o " "data_dir= jobs= grace= gpus= cache_dir= no_autostart allow_other"
expect "$R -o jobs=2,ca" "2,cache_dir="
mkdir -p "$T/datadir"
expect "$R -o jobs=2,data_dir=$T/datad" "$T/datadir"
expect "$R in_process $T/datad" "$T/datadir"

# Files for submit, directories for --data.
expect "$R submit $SRCDIR/examples/hel" "$SRCDIR/examples/hello.json"
expect "$R up --data $T/datad" "$T/datadir"

# Saved configurations (login cannot reach the server, and saves anyway).
timeout 30 "$RUNFS" login http://127.0.0.1:1 --token-file /dev/null --name lab >/dev/null 2>&1 ||
	printf 'x\n' | timeout 30 "$RUNFS" login http://127.0.0.1:1 --token - --name lab >/dev/null 2>&1 ||
	fail "runfs login could not save a configuration"
expect "$R config show " "in_process local lab"
expect "$R login " "lab"
expect "$R submit f.json --config l" "lab local"
expect_has "$R " lab in_process config

# Run ids, from --mount and from the runfs mounts in mountinfo.
start_runfs in_process
id=$(submit "$SRCDIR/examples/hello.json")
id2=$(submit "$SRCDIR/examples/hello.json")
expect "$R graph --mount $MNT " "$id $id2"
expect "$R tasks ${id:0:12} --mount $MNT --" "--state --task --tsv --mount"
expect "$R rm --mount $MNT $id " "$id $id2"
expect "$R graph --mount $MNT $id " ""
expect_has "$R watch " "$id" "$id2"
expect_has "$R graph --mount " "$MNT"
expect "$R watch $MNT/runs/$id/wa" "$MNT/runs/$id/wait"
stop_runfs

check_stderr
echo "PASS: $TEST_NAME"
