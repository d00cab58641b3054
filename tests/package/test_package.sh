#!/usr/bin/env bash
# The Debian package, end to end, on this machine (root): cpack builds it
# from the build without sanitizers (RUNFS_PLAIN_DIR), lintian finds no
# error in it, dpkg -i installs it with its dependencies met, systemd-
# analyze verify accepts its units, the installed runfs says its version
# and commit, mounts the standard ways, through `mount -t fuse.runfs` and
# through a line of /etc/fstab and `mount DIR` (mount.fuse3 runs runfs
# from PATH), and runs the installed examples/hello.json there; then
# dpkg --purge leaves no file behind: the file list of the system after
# is the one before.
#
# It installs /usr/bin/runfs and edits /etc/fstab, so ctest runs it alone
# and scripts/test runs it after every other test (ctest -L package); the
# EXIT trap restores /etc/fstab and purges the package whatever happens.
# RUNFS_PACKAGE_PRUNE: more folders (space-separated) to leave out of the
# file lists, for a machine where something else works at the same time.
: "${RUNFS_PLAIN_DIR:?RUNFS_PLAIN_DIR must name a build without sanitizers}"
: "${RUNFS:=$RUNFS_PLAIN_DIR/runfs}"
: "${TEST_LIMIT:=200}"
. "$(dirname "$0")/../integ/lib.sh"

((EUID == 0)) || fail "installing a package needs root"
for tool in cpack dpkg dpkg-deb lintian systemd-analyze mount umount; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps installs it)"
done
installed() { dpkg-query -W -f='${db:Status-Abbrev}' runfs 2>/dev/null | grep -q '^.i'; }
if installed; then
	fail "the runfs package is installed already: this test installs and purges it"
fi
_now_ms
t0=$REPLY
elapsed() { # elapsed WHAT: a note of the seconds since the start
	_now_ms
	note "$1 ($(((REPLY - t0) / 1000)).$((((REPLY - t0) % 1000) / 100)) s)"
}

# The package, into the test's folder (the build folder stays clean).
timeout 120 cpack --config "$RUNFS_PLAIN_DIR/CPackConfig.cmake" -G DEB -B "$T/pkg" >"$T/cpack.out" 2>&1 ||
	fail "cpack failed: $(tail -n 20 "$T/cpack.out")"
debs=("$T"/pkg/*.deb)
{ ((${#debs[@]} == 1)) && [[ -f ${debs[0]} ]]; } || fail "cpack made ${#debs[@]} packages: ${debs[*]}"
deb=${debs[0]}
elapsed "built ${deb##*/}"
depends=$(dpkg-deb -f "$deb" Depends)
note "Depends: $depends"
for d in fuse3 libfuse3-3 libsqlite3-0 libjansson4 libcurl4; do
	[[ ", $depends," == *", $d"[\ ,]* ]] || fail "the package does not depend on $d: $depends"
done
version=$(dpkg-deb -f "$deb" Version)

# lintian: no error (its warnings are printed).
rc=0
timeout 120 lintian "$deb" >"$T/lintian.out" 2>&1 || rc=$?
sed 's/^/# lintian: /' "$T/lintian.out"
! grep -q '^E:' "$T/lintian.out" || fail "lintian found errors in ${deb##*/}"
((rc == 0)) || fail "lintian exited with status $rc"
elapsed "lintian: no error"

# The file list of the system, but for what changes on its own: the
# kernel's and the runtime's trees, temporary files, logs and caches
# (the user's too: other programs fill them as they please), dpkg's and
# apt's own records, and the sources and builds.
snapshot() {
	local p
	local -a expr=()
	# shellcheck disable=SC2206 # a list of folders, split on spaces
	local -a prune=(/proc /sys /dev /run /tmp /var/tmp /var/log /var/cache /var/lib/dpkg /var/lib/apt
		"${XDG_CACHE_HOME:-${HOME:-/root}/.cache}" "$SRCDIR" "$RUNFS_PLAIN_DIR" "$TEST_TMPDIR" "$T" ${RUNFS_PACKAGE_PRUNE:-})
	for p in "${prune[@]}"; do
		expr+=(-path "$p" -o)
	done
	find / -xdev \( "${expr[@]}" -false \) -prune -o -print 2>/dev/null | LC_ALL=C sort >"$1" || true
	[[ -s $1 ]] || fail "cannot list the files of /"
}

# Put back what the test changes, whatever happens from here on.
fstab_was=0
if [[ -e /etc/fstab ]]; then
	cp -p /etc/fstab "$T/fstab.orig"
	fstab_was=1
fi
restore_fstab() {
	if ((fstab_was)); then
		cmp -s "$T/fstab.orig" /etc/fstab || cp -p "$T/fstab.orig" /etc/fstab
	else
		rm -f /etc/fstab
	fi
}
at_exit restore_fstab
at_exit 'if installed; then timeout 120 dpkg --purge runfs >/dev/null; fi'

snapshot "$T/files.before"
elapsed "$(wc -l <"$T/files.before") files before"
timeout 120 dpkg -i "$deb" >"$T/dpkg.out" 2>&1 || fail "dpkg -i failed: $(cat "$T/dpkg.out")"
assert_eq "ii " "$(dpkg-query -W -f='${db:Status-Abbrev}' runfs)" "the package's state after dpkg -i"
elapsed "installed"

# The installed program: its version and the commit of the build.
commit=unknown
if command -v git >/dev/null && [[ $(git -C "$SRCDIR" rev-parse --show-toplevel 2>/dev/null) -ef $SRCDIR ]]; then
	commit=$(git -C "$SRCDIR" rev-parse --short=7 HEAD)
	[[ -z $(git -C "$SRCDIR" status --porcelain --untracked-files=no) ]] || commit+=-dirty
fi
assert_eq "runfs ${version%-*} (commit $commit)" "$(/usr/bin/runfs --version)" "/usr/bin/runfs --version"
assert_eq /usr/bin/runfs "$(command -v runfs)" "runfs in PATH"
for f in /usr/share/man/man1/runfs.1.gz /usr/share/doc/runfs/{README.md,TREE.md,copyright,changelog.Debian.gz} \
	/usr/share/doc/runfs/examples/hello.json /usr/share/bash-completion/completions/runfs \
	/lib/systemd/system/runfs-local@.service /lib/systemd/user/{runfs@,runfs-local@}.service; do
	[[ -s $f ]] || fail "the package did not install $f"
done
assert_contains "$(man -w runfs 2>&1)" /usr/share/man/man1/runfs.1.gz "man -w runfs"
# bash-completion finds the completion by the command's name.
out=$(timeout 20 bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion
	__load_completion runfs && complete -p runfs' 2>&1) || fail "bash-completion does not load the completion: $out"
assert_contains "$out" "-F _runfs runfs" "the loaded completion"

# systemd-analyze verify: the templates, an instance of each, and nothing
# to say (it reports a bad key or value and goes on with status 0).
mkdir -p "$T/units" "$T/xdg"
chmod 700 "$T/xdg"
cp /lib/systemd/system/runfs-local@.service "$T/units/runfs-local@var-lib-runfs.service"
cp /lib/systemd/user/runfs@.service "$T/units/runfs@in_process.service"
verify() { # verify [--user] UNIT...
	local out rc=0
	out=$(XDG_RUNTIME_DIR=$T/xdg timeout 60 systemd-analyze "$@" 2>&1) || rc=$?
	[[ $rc == 0 && -z $out ]] || fail "systemd-analyze $*: status $rc: $out"
	note "systemd-analyze $*: no complaint"
}
verify verify /lib/systemd/system/runfs-local@.service "$T/units/runfs-local@var-lib-runfs.service"
verify --user verify /lib/systemd/user/runfs@.service /lib/systemd/user/runfs-local@.service \
	"$T/units/runfs@in_process.service"
elapsed "units verified"

# hello_run WHAT: runs the installed hello.json on the mount at $MNT.
hello_run() {
	local id
	id=$(submit /usr/share/doc/runfs/examples/hello.json)
	assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "$1: the hello run"
	assert_eq "HELLO, WORLD!" "$(rd "$MNT/runs/$id/results/0")" "$1: results/0"
	printf '%s\n' "$id"
}

# mounted_by_package WHAT: the mount on $MNT is runfs's, served by the
# installed program; sets DAEMON to its pid.
mounted_by_package() {
	local p
	_mounted || fail "$1: nothing mounted on $MNT"
	assert_eq fuse.runfs "$(awk -v m="$MNT" '$5 == m {for (i = 7; $i != "-"; i++); print $(i + 1)}' /proc/self/mountinfo)" \
		"$1: the type in mountinfo"
	wait_until 200 timeout 2 stat "$MNT/submit" >/dev/null 2>&1 || fail "$1: $MNT/submit did not appear"
	DAEMON=
	for p in $(pgrep -f -- "runfs in_process $MNT "); do
		[[ $(readlink "/proc/$p/exe") == /usr/bin/runfs ]] && DAEMON=$p && break
	done
	[[ -n $DAEMON ]] || fail "$1: no /usr/bin/runfs serves $MNT: $(pgrep -af -- "$MNT" || true)"
}

# unmount WHAT: umount(8), then the daemon (and its guard) must end.
unmount() {
	timeout "$TO" umount "$MNT" || fail "$1: umount $MNT failed"
	! _mounted || fail "$1: $MNT is still mounted"
	wait_until 200 _dead "$DAEMON" || fail "$1: runfs (pid $DAEMON) still runs after the unmount"
	gone "runfs in_process $MNT " || fail "$1: a process of the mount is left: $(pgrep -af -- "$MNT")"
}

# mount -t fuse.runfs: mount(8) runs mount.fuse3, which runs runfs.
# What runfs says before it goes to the background is checked like a
# daemon's log.
RUNFS_LOGS+=("$T/mount-t.out" "$T/mount-fstab.out")
timeout 30 mount -t fuse.runfs in_process "$MNT" -o "data_dir=$DATA" >"$T/mount-t.out" 2>&1 ||
	fail "mount -t fuse.runfs failed: $(cat "$T/mount-t.out")"
mounted_by_package "mount -t fuse.runfs"
id1=$(hello_run "mount -t fuse.runfs")
unmount "mount -t fuse.runfs"
elapsed "mount -t fuse.runfs: $id1 SUCCEEDED"

# A line of /etc/fstab, as the README gives it, and `mount DIR`
# (noauto: nothing mounts it by itself should the test be cut short).
printf 'in_process %s fuse.runfs data_dir=%s,allow_other,_netdev,noauto 0 0\n' "$MNT" "$DATA" >>/etc/fstab
timeout 30 mount "$MNT" >"$T/mount-fstab.out" 2>&1 || fail "mount $MNT (fstab) failed: $(cat "$T/mount-fstab.out")"
mounted_by_package "fstab"
assert_contains "$(awk -v m="$MNT" '$5 == m {print $NF}' /proc/self/mountinfo)" allow_other "fstab: the mount's options"
id2=$(hello_run "fstab")
assert_eq "$(printf '%s\n' "$id1" "$id2" | sort)" "$(timeout "$TO" ls "$MNT/runs" | sort)" "fstab: the runs of the data directory"
unmount "fstab"
restore_fstab
elapsed "fstab: $id2 SUCCEEDED"

# Removed, purged: the file list is the one before.
timeout 120 dpkg --purge runfs >"$T/dpkg.out" 2>&1 || fail "dpkg --purge failed: $(cat "$T/dpkg.out")"
[[ -z $(dpkg-query -W -f='${db:Status-Abbrev}' runfs 2>/dev/null) ]] ||
	fail "dpkg knows runfs after the purge: $(dpkg-query -W -f='${db:Status-Abbrev}' runfs)"
snapshot "$T/files.after"
if ! diff "$T/files.before" "$T/files.after" >"$T/files.diff"; then
	sed 's/^/# /' "$T/files.diff" | head -n 40 >&2
	fail "the file list after dpkg --purge differs from the one before ($(grep -c '^[<>]' "$T/files.diff") lines)"
fi
[[ ! -e /usr/bin/runfs ]] || fail "/usr/bin/runfs is left"
elapsed "purged: the same $(wc -l <"$T/files.after") files as before"

check_stderr
echo "PASS: $TEST_NAME"
