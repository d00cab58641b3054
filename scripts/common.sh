# shellcheck shell=bash disable=SC2016
# Sourced by scripts/demo and scripts/bench: a Release build in
# build-release/, and a runfs mount on a temporary directory that is always
# unmounted, and its daemon ended by its pid, when the script exits.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build_release() {
	cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$ROOT/build-release" -j"$(nproc)" --target runfs wakelat seedstore barespawn >/dev/null
	RUNFS=$ROOT/build-release/runfs
	WAKELAT=$ROOT/build-release/wakelat
	SEEDSTORE=$ROOT/build-release/seedstore
	BARESPAWN=$ROOT/build-release/barespawn
}

WORK=
M=
DATA=
RUNFS_PID=

_alive() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ ${st%% *} != Z ]]
}

_mounted() {
	[[ -n $M ]] && grep -qF " $M " /proc/self/mountinfo
}

unmount_runfs() {
	local i
	if _mounted; then
		timeout 10 fusermount3 -u "$M" 2>/dev/null || {
			sleep 0.5
			timeout 10 fusermount3 -u "$M" 2>/dev/null
		} || timeout 10 fusermount3 -uz "$M" || true
	fi
	if [[ -n $RUNFS_PID ]]; then
		for ((i = 0; i < 100; i++)); do
			_alive "$RUNFS_PID" || break
			sleep 0.05
		done
		if _alive "$RUNFS_PID"; then
			kill -TERM "$RUNFS_PID" 2>/dev/null || true
			sleep 1
			kill -KILL "$RUNFS_PID" 2>/dev/null || true
		fi
		wait "$RUNFS_PID" 2>/dev/null || true
		RUNFS_PID=
	fi
}

# down_local: stops the local runtime this script's data directory may have
# (started by `runfs up` or by a local run), and waits for it.
down_local() {
	[[ -n $RUNFS && -d $DATA ]] || return 0
	timeout 30 "$RUNFS" down --data "$DATA" --timeout 20 >/dev/null || true
}

_cleanup() {
	unmount_runfs
	down_local
	if [[ -n $WORK ]] && ! _mounted; then
		rm -rf "$WORK"
	fi
}

# mount_runfs [OPTS]: mounts runfs in_process on a new temporary directory
# ($M, data in $DATA, daemon log in $WORK/runfs.log) and waits until it
# serves (at most 10 s).
mount_runfs() {
	local opts=data_dir=$DATA i
	[[ -n ${1:-} ]] && opts+=",$1"
	"$RUNFS" -f -o "$opts" in_process "$M" </dev/null 2>"$WORK/runfs.log" &
	RUNFS_PID=$!
	for ((i = 0; i < 200; i++)); do
		timeout 2 stat "$M/submit" >/dev/null 2>&1 && return 0
		if ! _alive "$RUNFS_PID"; then
			cat "$WORK/runfs.log" >&2
			echo "runfs exited while starting" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "runfs did not serve $M/submit within 10 s" >&2
	return 1
}

WORK=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/runfs-$(basename "$0").XXXXXX")" && pwd -P)
M=$WORK/mnt
DATA=$WORK/data
mkdir -p "$M"
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# submit FILE: writes FILE into M/submit and prints the run id it answers.
submit() {
	timeout 20 bash -c '
		exec {fd}<>"$1"
		cat -- "$2" >&"$fd"
		IFS= read -r -t 10 line <&"$fd"
		printf "%s\n" "$line"
		exec {fd}>&-' submit "$M/submit" "$1"
}

# wait_completed RUN SECONDS: blocks on M/runs/RUN/wait until the run
# completes; prints the state.
wait_completed() {
	local st
	if ! st=$(timeout "$2" cat "$M/runs/$1/wait"); then
		echo "run $1 did not complete within $2 s" >&2
		return 1
	fi
	echo "$st"
}
