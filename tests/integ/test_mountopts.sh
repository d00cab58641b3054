#!/usr/bin/env bash
# The options an /etc/fstab line and mount(8) hand a FUSE filesystem:
# the kernel's flags (rw, nosuid, nodev, noexec, noatime, ro) take effect,
# the ones meant for mount(8), systemd or nobody (_netdev, noauto, user,
# nofail, defaults, relatime, x-systemd.*, comment=) are dropped as sshfs
# drops them, and an option nobody knows is still refused. (The package
# test mounts through mount(8) itself: tests/package/test_package.sh.)
. "$(dirname "$0")/lib.sh"

start_runfs in_process "rw,nosuid,nodev,noexec,noatime,async,_netdev,noauto,auto,user,users,nouser,nofail,defaults,relatime,strictatime,nodiratime,x-systemd.automount,x-systemd.mount-timeout=30,comment=x-gvfs-show"
flags=$(awk -v m="$MNT" '$5 == m {print $6}' /proc/self/mountinfo)
note "mount flags: $flags"
for f in rw nosuid nodev noexec noatime; do
	[[ ,$flags, == *",$f,"* ]] || fail "the mount's flags $flags lack $f"
done
id=$(submit "$SRCDIR/examples/hello.json")
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "a run on a mount given fstab's options"
stop_runfs

# ro: the kernel refuses every write, submit's too.
start_runfs in_process ro
assert_contains "$(write_error "$MNT/submit" '{}')" "Read-only file system" "submit on a read-only mount"
stop_runfs

rc=0
timeout 20 "$RUNFS" -f -o "data_dir=$DATA,frobnicate" in_process "$MNT" >"$T/out" 2>&1 </dev/null || rc=$?
((rc != 0 && rc != 124)) || fail "an unknown option: status $rc"
assert_contains "$(<"$T/out")" "frobnicate" "an unknown option is named"
! _mounted || fail "mounted despite an unknown option"

check_stderr
echo "PASS: $TEST_NAME"
