# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034,SC2119,SC2120
# Sourced by every integration test (tests/integ/test_*.sh).
#
# ctest runs each test as `bash FILE` with these variables set:
#   RUNFS        the runfs daemon binary
#   POLLWAIT     the pollwait tool (tests/tools/pollwait.c)
#   SRCDIR       the source tree
#   TEST_TMPDIR  where tests make their temporary directories
#
# Rules every test follows through these helpers:
#   - the mount is ready (M/submit exists) before the test uses it;
#   - every read, write, ls, stat or find through the mount runs under
#     `timeout`, so a hung mount fails the test instead of hanging CI;
#   - an EXIT trap unmounts (fusermount3 -u, then -uz), waits for the daemon
#     by its pid (bounded), kills it by pid if it is still there, kills the
#     task processes the test left behind (found by the test's unique token)
#     and removes the temporary directory, whether the test passed or not;
#   - the daemon's stderr must hold no line with "error:", "fatal:", a
#     sanitizer report or "runtime error:" unless the test allows it
#     (ALLOW_STDERR, or check_stderr's arguments), and the daemon must exit 0.
# The last line a test prints is "PASS: <name>" or "FAIL: <name>".

set -Eeuo pipefail
shopt -s inherit_errexit

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
: "${RUNFS:?RUNFS must name the runfs daemon binary}"
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TEST_TMPDIR:=${TMPDIR:-/tmp}/runfs-tests}"
: "${POLLWAIT:=}"
export LC_ALL=C

# Sanitizer reports go to the daemon's stderr, where check_stderr sees them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$TEST_TMPDIR"
# Resolved (pwd -P) so that it matches /proc/self/mountinfo.
T=$(cd "$(mktemp -d "$TEST_TMPDIR/$TEST_NAME.XXXXXX")" && pwd -P)
MNT=$T/mnt
DATA=$T/data
mkdir -p "$MNT"

# A number unique to this test process: task commands that could outlive a
# failure carry it (`sleep 300.$TOKEN` sleeps 300 s), so the EXIT trap can
# find exactly those processes, and tests can check they are gone.
TOKEN=$(printf '%07d%05d' "$$" "$RANDOM")

# Under valgrind (tests/tools/valgrind-runfs) the daemon runs tens of
# times slower: every bound on an operation is SLOW times longer.
VALGRIND=0
[[ $(basename "$RUNFS") == valgrind-runfs ]] && VALGRIND=1
SLOW=$((VALGRIND ? 6 : 1))
TO=$((10 * SLOW)) # seconds any single operation through the mount may take
RUNFS_PID=
RUNFS_RC=
RUNFS_LOG=
# The local runtime's log is checked like a mount's.
RUNFS_LOGS=("$DATA/local.log")
RUNFS_N=0
EXTRA_PIDS=() # mounts made with start_extra, and their mount points
EXTRA_MNTS=()
ALLOW_STDERR=() # extended regexps of daemon stderr lines this test expects
AT_EXIT=()      # commands the EXIT trap runs once the daemons are gone (at_exit)
FAILED=0

# ---------------------------------------------------------------- reporting

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	FAILED=1
	exit 1
}

note() {
	echo "# $*"
}

_q() { printf '%q' "$1"; }

assert_eq() { # assert_eq EXPECTED ACTUAL [WHAT]
	[[ $1 == "$2" ]] || fail "${3:-value}: expected $(_q "$1"), got $(_q "$2")"
}

assert_contains() { # assert_contains HAYSTACK NEEDLE [WHAT]
	[[ $1 == *"$2"* ]] || fail "${3:-value}: $(_q "$1") does not contain $(_q "$2")"
}

assert_not_contains() { # assert_not_contains HAYSTACK NEEDLE [WHAT]
	[[ $1 != *"$2"* ]] || fail "${3:-value}: $(_q "$1") contains $(_q "$2")"
}

assert_match() { # assert_match ERE ACTUAL [WHAT]
	[[ $2 =~ $1 ]] || fail "${3:-value}: $(_q "$2") does not match /$1/"
}

ISO8601='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
RUN_ID_RE='^wf\.[a-z0-9_-]+\.[0-9a-f]{7}$'

_on_err() {
	echo "error: ${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}: command failed (status $1): $2" >&2
}
trap '_on_err $? "$BASH_COMMAND"' ERR

# ------------------------------------------------------------ time, process

# Sets REPLY to a monotonic-enough clock in milliseconds (no fork).
_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	REPLY=$((10#$t / 1000))
}

_alive() { # _alive PID: running and not a zombie
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ ${st%% *} != Z ]]
}

# wait_until N CMD...: runs CMD every 50 ms until it succeeds, at most N
# times; returns 1 when it never did.
wait_until() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

_dead() { ! _alive "$1"; }

_wait_gone() { # _wait_gone PID N: waits up to N x 50 ms for PID to end; fails if it did not
	wait_until "$2" _dead "$1"
}

# _mounted [DIR]: succeeds when something is mounted on DIR ($MNT).
_mounted() {
	grep -qF " ${1:-$MNT} " /proc/self/mountinfo
}

# _unmount [DIR]: unmounts DIR ($MNT), a few times if it is busy, then
# aborts its connection and unmounts it lazily. Never fails.
_unmount() {
	local i m=${1:-$MNT}
	for i in 1 2 3 4 5; do
		_mounted "$m" || return 0
		timeout "$TO" fusermount3 -u "$m" 2>/dev/null && return 0
		sleep 0.2
	done
	_mounted "$m" || return 0
	_abort_connection "$m"
	echo "# $m is busy: lazy unmount" >&2
	timeout "$TO" fusermount3 -uz "$m" || true
}

# _abort_connection DIR: aborts the FUSE connection of the mount on DIR
# (fusectl), so that no process stays blocked in a request to a daemon
# that will not answer (as a lazy unmount alone would leave it).
_abort_connection() {
	local dev c=/sys/fs/fuse/connections
	dev=$(awk -v m="$1" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo | tail -n 1)
	[[ -n $dev ]] || return 0
	if [[ ! -e $c/$dev/abort ]] && ((EUID == 0)); then
		mount -t fusectl none "$c" 2>/dev/null || true
	fi
	if [[ -e $c/$dev/abort ]]; then
		echo "# aborting the FUSE connection of $1" >&2
		echo 1 >"$c/$dev/abort" || true
	fi
}

# pids whose command line holds this test's token or temporary directory.
_leftovers() {
	{
		pgrep -f -- "$TOKEN" || true
		pgrep -f -- "$T/" || true
	} | sort -u | grep -vx -- "$$" || true
}

_kill_leftovers() {
	local p
	for p in $(_leftovers); do
		[[ $p == "$RUNFS_PID" ]] && continue
		echo "# killing leftover process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
		kill -KILL "$p" 2>/dev/null || true
	done
}

# gone TOKENTEXT: succeeds when no process command line holds TOKENTEXT within
# 5 s (a killed process can take a moment to go).
gone() {
	local i
	for ((i = 0; i < 50; i++)); do
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# soak CASE TRIED LOST: a line scripts/soak puts in its table (how many
# things the case tried, and how many recorded things it found lost).
soak() { echo "# soak: $1|$2|$3"; }

# at_exit CMD: the EXIT trap runs CMD (a shell string) after the daemons
# have ended and before the temporary directory is removed.
at_exit() { AT_EXIT+=("$1"); }

# proc_kb PID FIELD: a /proc/PID/status figure in kB (VmRSS, VmHWM).
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# sanitized: succeeds when the daemon's memory is not its own: built with
# AddressSanitizer, whose allocator keeps what is freed, or run under
# valgrind. Memory figures mean something only on a build without either
# (the *_plain tests).
sanitized() { ((VALGRIND)) || grep -qa __asan_init "$RUNFS"; }

# fd_count PID: how many descriptors PID has open.
fd_count() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# ------------------------------------------------------------ the daemon

# start_runfs CONFIG [OPTS]: mounts runfs on $MNT with data_dir=$DATA (plus
# the comma-separated OPTS, e.g. grace=1,jobs=4) and waits until it serves.
start_runfs() {
	local config=$1 opts="data_dir=$DATA" i
	[[ -n ${2:-} ]] && opts+=",$2"
	[[ -z $RUNFS_PID ]] || fail "start_runfs: runfs is already running"
	RUNFS_N=$((RUNFS_N + 1))
	RUNFS_LOG=$T/runfs.$RUNFS_N.log
	RUNFS_LOGS+=("$RUNFS_LOG")
	RUNFS_RC=
	"$RUNFS" -f -o "$opts" "$config" "$MNT" </dev/null >>"$RUNFS_LOG" 2>&1 &
	RUNFS_PID=$!
	# Ready when the mount is in mountinfo and M/submit exists; at most
	# 10 s (200 x 50 ms plus the stats). The mount must be looked for: a
	# write into M/submit while nothing was mounted (a writer racing a
	# crash) leaves a plain file there that a stat alone would take for
	# the daemon's.
	for ((i = 0; i < 200; i++)); do
		if _mounted && timeout 2 stat "$MNT/submit" >/dev/null 2>&1; then
			return 0
		fi
		if ! _alive "$RUNFS_PID"; then
			local rc=0
			wait "$RUNFS_PID" || rc=$?
			RUNFS_PID=
			_unmount
			echo "--- runfs log ($RUNFS_LOG)" >&2
			cat "$RUNFS_LOG" >&2
			fail "runfs exited with status $rc while starting"
		fi
		sleep 0.05
	done
	fail "runfs did not serve $MNT/submit within 10 s"
}

# _stop_daemon: unmounts, waits for the daemon to exit (bounded), ends it by
# its pid if it is still there. Sets RUNFS_RC (its exit status) and
# RUNFS_KILLED (the signal the test had to send, or empty). Never fails.
RUNFS_KILLED=
_stop_daemon() {
	local pid=$RUNFS_PID rc=0
	RUNFS_KILLED=
	[[ -n $pid ]] || return 0
	_unmount
	# ASan's exit-time leak check can take a few seconds.
	if ! _wait_gone "$pid" 300; then
		echo "# runfs (pid $pid) still running 15 s after the unmount: SIGTERM" >&2
		kill -TERM "$pid" 2>/dev/null || true
		RUNFS_KILLED=TERM
		if ! _wait_gone "$pid" 100; then
			echo "# runfs (pid $pid) ignored SIGTERM: SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			RUNFS_KILLED=KILL
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	RUNFS_PID=
	RUNFS_RC=$rc
	_unmount
	return 0
}

# stop_runfs [any]: _stop_daemon, then fails when the daemon had to be
# killed or exited non-zero, unless the argument is "any".
stop_runfs() {
	_stop_daemon
	[[ ${1:-} == any ]] && return 0
	[[ -z $RUNFS_KILLED ]] || fail "runfs did not exit after the unmount (sent SIG$RUNFS_KILLED)"
	[[ ${RUNFS_RC:-0} == 0 ]] || fail "runfs exited with status $RUNFS_RC"
}

# crash_runfs [keep]: ends the daemon with SIGKILL (as a crash would) and
# cleans the dead mount up. With "keep" the dead mount stays, answering
# ENOTCONN, until the caller unmounts it (_unmount): processes still
# writing into the mount then fail instead of writing into the bare
# directory underneath.
crash_runfs() {
	local pid=$RUNFS_PID
	[[ -n $pid ]] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	RUNFS_PID=
	RUNFS_RC=137
	[[ ${1:-} == keep ]] || _unmount
}

# ------------------------------------------------- more mounts, local runtime

# start_extra DIR CONFIG [OPTS]: another mount of the same data directory on
# DIR (created), ready when DIR/submit exists; unmounted by the EXIT trap.
start_extra() {
	local dir=$1 config=$2 opts="data_dir=$DATA" log i pid
	# OPTS with a data_dir of its own: a mount as another machine's.
	[[ ${3:-} == *data_dir=* ]] && opts=
	[[ -n ${3:-} ]] && opts+="${opts:+,}$3"
	mkdir -p "$dir"
	RUNFS_N=$((RUNFS_N + 1))
	log=$T/runfs.$RUNFS_N.log
	RUNFS_LOGS+=("$log")
	"$RUNFS" -f -o "$opts" "$config" "$dir" </dev/null >>"$log" 2>&1 &
	pid=$!
	EXTRA_PIDS+=("$pid")
	EXTRA_MNTS+=("$dir")
	for ((i = 0; i < 200; i++)); do
		timeout 2 stat "$dir/submit" >/dev/null 2>&1 && return 0
		_alive "$pid" || fail "runfs on $dir exited while starting: $(cat "$log")"
		sleep 0.05
	done
	fail "runfs did not serve $dir/submit within 10 s"
}

# stop_extra DIR: unmounts DIR and waits (bounded) for its daemon to exit 0.
stop_extra() {
	local k rc=0
	for k in "${!EXTRA_MNTS[@]}"; do
		[[ ${EXTRA_MNTS[$k]} == "$1" ]] || continue
		timeout "$TO" fusermount3 -u "$1" || fail "cannot unmount $1"
		_wait_gone "${EXTRA_PIDS[$k]}" 300 || fail "runfs on $1 did not exit after the unmount"
		wait "${EXTRA_PIDS[$k]}" || rc=$?
		unset "EXTRA_MNTS[$k]" "EXTRA_PIDS[$k]"
		((rc == 0)) || fail "runfs on $1 exited with status $rc"
		return 0
	done
	fail "stop_extra: $1 is not mounted by start_extra"
}

_stop_extras() {
	local k
	for k in "${!EXTRA_MNTS[@]}"; do
		_unmount "${EXTRA_MNTS[$k]}"
		kill "${EXTRA_PIDS[$k]}" 2>/dev/null || true
		wait "${EXTRA_PIDS[$k]}" 2>/dev/null || true
	done
	EXTRA_PIDS=()
	EXTRA_MNTS=()
}

# local_pid: the local runtime's pid for $DATA, or nothing when it is down.
local_pid() {
	local out
	out=$("$RUNFS" status --data "$DATA") || return 0
	[[ $out =~ \(pid\ ([0-9]+), ]] && echo "${BASH_REMATCH[1]}"
}

# The EXIT trap ends a local runtime the test left running: `runfs down`,
# then SIGKILL by its pid when that did not do it.
_stop_local() {
	local pid
	[[ -d $DATA ]] || return 0
	pid=$(local_pid 2>/dev/null) || true
	[[ -n $pid ]] || return 0
	timeout 30 "$RUNFS" down --data "$DATA" --timeout 20 >/dev/null 2>&1 || true
	if _alive "$pid"; then
		echo "# the local runtime (pid $pid) did not stop: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

# check_stderr [ERE...]: fails when a daemon log has a line with "error:",
# "fatal:", a sanitizer report or "runtime error:" that no allowed pattern
# (ALLOW_STDERR plus the arguments) matches.
check_stderr() {
	local f bad san a
	local -a ex=()
	for a in "${ALLOW_STDERR[@]}" "$@"; do
		ex+=(-e "$a")
	done
	for f in "${RUNFS_LOGS[@]}"; do
		[[ -f $f ]] || continue
		bad=$(grep -E 'error:|fatal:' "$f" || true)
		if [[ -n $bad && ${#ex[@]} -gt 0 ]]; then
			bad=$(printf '%s\n' "$bad" | grep -Ev "${ex[@]}" || true)
		fi
		# Sanitizer reports are never allowed away.
		san=$(grep -E 'Sanitizer|runtime error:|^==[0-9]+==' "$f" || true)
		if [[ -n $bad$san ]]; then
			echo "--- unexpected lines in the daemon's stderr ($f):" >&2
			printf '%s\n' "$bad" "$san" | grep -E '.' | head -n 60 >&2
			fail "the daemon logged errors the test did not expect"
		fi
	done
}

_on_exit() {
	local rc=$? f
	set +eE
	trap - ERR
	((FAILED)) && rc=1
	if [[ -n $RUNFS_PID ]]; then
		_stop_daemon
		if ((rc == 0)) && [[ -n $RUNFS_KILLED ]]; then
			echo "FAIL: $TEST_NAME: runfs did not exit after the unmount (sent SIG$RUNFS_KILLED)" >&2
			rc=1
		elif ((rc == 0)) && [[ $RUNFS_RC != 0 ]]; then
			echo "FAIL: $TEST_NAME: runfs exited with status $RUNFS_RC" >&2
			rc=1
		fi
	fi
	_unmount
	_stop_extras
	_stop_local
	kill "$WATCHDOG_PID" 2>/dev/null || true
	_kill_leftovers
	for f in "${AT_EXIT[@]}"; do
		eval "$f" || echo "# at exit: $f failed" >&2
	done
	if ((rc == 0)); then
		(check_stderr) || rc=1
	fi
	if ((rc != 0)); then
		for f in "${RUNFS_LOGS[@]}"; do
			[[ -f $f ]] || continue
			if grep -qE '^==[0-9]+==ERROR|runtime error:' "$f"; then
				echo "--- sanitizer report in the daemon's stderr ($f):" >&2
				grep -E -m 3 -A 40 '^==[0-9]+==ERROR|runtime error:' "$f" |
					grep -v '^  0x\|^Shadow\|^  [A-Z][a-z].*: *[0-9a-f ]*$' | head -n 120 >&2
			fi
			echo "--- last lines of the daemon's stderr ($f):" >&2
			grep -v '^  0x\|^Shadow\|^  [A-Z][a-z].*: *[0-9a-f ]*$' "$f" | tail -n 30 >&2
		done
	fi
	if _mounted; then
		echo "# $MNT is still mounted: leaving $T in place" >&2
		rc=1
	elif [[ -z ${KEEP_TMP:-} ]]; then
		rm -rf "$T"
	else
		echo "# kept $T" >&2
	fi
	if ((rc == 0)); then
		echo "PASS: $TEST_NAME"
	else
		echo "FAIL: $TEST_NAME"
	fi
	exit "$rc"
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'echo "FAIL: $TEST_NAME: terminated (the watchdog ends a test after ${TEST_LIMIT} s)" >&2; exit 143' TERM

# The watchdog: ctest kills a test at its TIMEOUT (300 s) with no chance to
# clean up, so the test ends itself first (SIGTERM runs the EXIT trap). It
# sleeps with a builtin read on a private FIFO: no child process to leave.
TEST_LIMIT=${TEST_LIMIT:-240}
mkfifo "$T/.watchdog"
(
	exec 3<>"$T/.watchdog"
	read -r -t "$TEST_LIMIT" -u 3 || true
	kill -TERM "$$" 2>/dev/null || true
) &
WATCHDOG_PID=$!

# ------------------------------------------------------ reading and writing

# rd FILE...: cat through the mount, bounded.
rd() {
	local rc=0
	timeout "$TO" cat -- "$@" || rc=$?
	((rc != 124)) || echo "rd: reading $* took over $TO s" >&2
	return "$rc"
}

# read_error FILE: prints the error text of a read that must fail; fails
# the test when the read succeeds or hangs.
read_error() {
	local out rc=0
	out=$(timeout "$TO" cat -- "$1" 2>&1 >/dev/null) || rc=$?
	((rc != 0)) || fail "reading $1 succeeded; an error was expected"
	((rc != 124)) || fail "reading $1 timed out"
	printf '%s\n' "$out"
}

# wr FILE TEXT: writes TEXT and a newline to FILE (O_TRUNC, like `echo >`),
# bounded. Returns the writer's status; its error text goes to stderr.
wr() {
	timeout "$TO" bash -c 'printf "%s\n" "$2" >"$1"' wr "$1" "$2"
}

# write_error FILE TEXT: prints the error text of a write that must fail.
write_error() {
	local out rc=0
	out=$(wr "$1" "$2" 2>&1) || rc=$?
	((rc != 0)) || fail "writing $(_q "$2") to $1 succeeded; an error was expected"
	((rc != 124)) || fail "writing to $1 timed out"
	printf '%s\n' "$out"
}

# submit_raw FILE [submit|prepare]: writes FILE into M/submit (or M/prepare)
# through one open file (exec {fd}<>), reads the answer line on that same
# file with read -t, and prints it ("<run-id>" or "error: <reason>").
submit_raw() {
	local file=$1 target=${2:-submit}
	timeout $((20 * SLOW)) bash -c '
		exec {fd}<>"$1" || exit 2
		cat -- "$2" >&"$fd" 2>/dev/null
		IFS= read -r -t "$3" line <&"$fd" || { echo "no answer read (status $?)" >&2; exit 3; }
		printf "%s\n" "$line"
		exec {fd}>&-' submit "$MNT/$target" "$file" $((10 * SLOW))
}

# submit FILE [submit|prepare]: prints the new run's id; fails otherwise.
submit() {
	local out rc=0
	out=$(submit_raw "$@") || rc=$?
	if ((rc != 0)) || ! [[ $out =~ $RUN_ID_RE ]]; then
		fail "submit $1: got $(_q "$out") (status $rc)"
	fi
	printf '%s\n' "$out"
}

# _poll_status FILE: sets STATE to FILE's content; fails at once when the
# daemon has died or FILE does not exist (a wrong run or task id).
_poll_status() {
	local err
	if STATE=$(timeout "$TO" cat -- "$1" 2>"$T/.poll_err"); then
		return 0
	fi
	err=$(<"$T/.poll_err")
	STATE="(unreadable: $err)"
	if [[ -n $RUNFS_PID ]] && ! _alive "$RUNFS_PID"; then
		fail "runfs (pid $RUNFS_PID) died while the test waited on $1"
	fi
	[[ $err != *"No such file or directory"* ]] || fail "$1 does not exist"
}

# wait_state RUN STATE...: polls M/runs/RUN/status until it shows one of
# the STATEs (at most WAIT_TIMEOUT s, default 60 x SLOW); fails early when the run
# completed in another state. Sets STATE.
# (Until M/runs/RUN/wait exists, polling is the way to wait.)
STATE=
wait_state() {
	local run=$1 s deadline
	shift
	_now_ms
	deadline=$((REPLY + ${WAIT_TIMEOUT:-$((60 * SLOW))} * 1000))
	while :; do
		_poll_status "$MNT/runs/$run/status"
		for s in "$@"; do
			[[ $STATE == "$s" ]] && return 0
		done
		case $STATE in
		SUCCEEDED | FAILED | TERMINATED | KILLED)
			fail "run $run ended $STATE, not $*: message: $(rd "$MNT/runs/$run/message" 2>&1 || true)"
			;;
		esac
		_now_ms
		((REPLY < deadline)) || fail "run $run is still $STATE after ${WAIT_TIMEOUT:-$((60 * SLOW))} s; waited for $*"
		sleep 0.05
	done
}

# wait_task_state RUN TASK STATE...: the same for one task run.
wait_task_state() {
	local run=$1 task=$2 s deadline
	shift 2
	_now_ms
	deadline=$((REPLY + ${WAIT_TIMEOUT:-$((60 * SLOW))} * 1000))
	while :; do
		_poll_status "$MNT/runs/$run/tasks/$task/status"
		for s in "$@"; do
			[[ $STATE == "$s" ]] && return 0
		done
		_now_ms
		((REPLY < deadline)) || fail "task $run/$task is still $STATE after ${WAIT_TIMEOUT:-$((60 * SLOW))} s; waited for $*"
		sleep 0.05
	done
}

# wait_proc TEXT: waits (at most 10 s) until a process command line holds TEXT.
wait_proc() {
	local i
	for ((i = 0; i < 200; i++)); do
		pgrep -f -- "$1" >/dev/null && return 0
		sleep 0.05
	done
	fail "no process with $(_q "$1") in its command line appeared"
}

# count_entries DIR: the number of entries `ls DIR` lists, bounded.
count_entries() {
	local out
	out=$(timeout "$TO" ls -- "$1")
	if [[ -z $out ]]; then echo 0; else printf '%s\n' "$out" | wc -l; fi
}

# check_sizes DIR: every regular file under DIR reports the size that
# `wc -c` and `cat | wc -c` count. Streams that block (wait, events) are
# left out.
check_sizes() {
	local f st wc1 wc2 n=0 files
	files=$(timeout "$TO" find "$1" -type f ! -name wait ! -name events)
	while IFS= read -r f; do
		[[ -n $f ]] || continue
		st=$(timeout "$TO" stat -c %s -- "$f")
		# A file that cannot be read now (EAGAIN, ENODATA) has nothing to compare.
		if ! wc1=$(timeout "$TO" sh -c 'wc -c <"$1"' wc "$f" 2>/dev/null); then
			continue
		fi
		wc2=$(rd "$f" | wc -c)
		[[ $st == "$wc1" && $st == "$wc2" ]] ||
			fail "$f: stat says $st bytes, wc -c $wc1, cat | wc -c $wc2"
		n=$((n + 1))
	done <<<"$files"
	((n > 0)) || fail "check_sizes $1: no readable file found"
	note "sizes agree for $n files under ${1#"$MNT"/}"
}

# json FILE FILTER: jq -r FILTER over FILE read through the mount.
json() {
	local text
	text=$(rd "$1")
	jq -r "$2" <<<"$text"
}

for _tool in fusermount3 jq timeout pgrep stat; do
	command -v "$_tool" >/dev/null || fail "$_tool is not installed (scripts/test installs it)"
done
[[ -c /dev/fuse ]] || fail "/dev/fuse is missing: FUSE is not available here"
[[ -x $RUNFS ]] || fail "RUNFS=$RUNFS is not an executable"

# gated_def FILE GATE: writes a definition of one task, "hold", that runs
# until the file GATE exists (touch it to let the run end).
gated_def() {
	jq -n --arg g "$2" --arg tok "$TOKEN" '{
	  name: "gated",
	  tasks: {hold: {command: ["sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.05; done", "{g}", $tok]}},
	  steps: [{id: "hold", task: "hold", args: {g: $g}}]
	}' >"$1"
}

# chain_def FILE LOG: a -> b -> c and side on its own; each task run
# appends its name to LOG when it starts and prints "<name>-<input>".
chain_def() {
	jq -n --arg log "$2" '{name: "chain",
	  tasks: {t: {command: ["sh", "-c", "echo \"$0\" >>\"$1\"; echo \"$0-$2\"", "{me}", $log, "{in}"]}},
	  steps: [{id: "a", task: "t", args: {me: "a", in: "x"}},
	          {id: "b", task: "t", args: {me: "b", in: {from: "a"}}},
	          {id: "c", task: "t", args: {me: "c", in: {from: "b"}}},
	          {id: "side", task: "t", args: {me: "side", in: "y"}}],
	  results: [{from: "c"}]}' >"$1"
}

# slurm_lab [LOGIN OPTIONS...]: loads the single-node Slurm's settings
# (scripts/slurm-up writes them to $SLURM_DIR/env), and saves the
# configuration "lab" for it with runfs login, the token read from a file
# ($T/jwt), in a configuration file of the test's own. SLURM_WORKDIR
# becomes a folder of the test's own in the cluster's work directory:
# mounts list every run recorded there, so tests must not share one.
slurm_lab() {
	SLURM_DIR=${SLURM_DIR:-/tmp/runfs-slurm}
	[[ -r $SLURM_DIR/env ]] || fail "no Slurm: run scripts/slurm-up (scripts/test does)"
	# shellcheck disable=SC1091
	. "$SLURM_DIR/env"
	SLURM_WORKDIR=$SLURM_WORKDIR/${T##*/}
	mkdir -p "$SLURM_WORKDIR"
	at_exit "rm -rf --one-file-system $(_q "$SLURM_WORKDIR")"
	export XDG_CONFIG_HOME=$T/config
	printf '%s\n' "$SLURM_JWT" >"$T/jwt"
	timeout 30 "$RUNFS" login "$SLURM_REST_URL" --token-file "$T/jwt" --user "$SLURM_REST_USER" \
		--workdir "$SLURM_WORKDIR" --partition debug --name lab "$@" >"$T/login.out" 2>&1 ||
		fail "runfs login: $(<"$T/login.out")"
}
