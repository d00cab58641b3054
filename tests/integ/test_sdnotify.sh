#!/usr/bin/env bash
# systemd's readiness protocol (Type=notify, sd_notify(3)), which the units
# in dist/systemd rely on: the local runtime daemon in the foreground and a
# mount with -f send READY=1 to $NOTIFY_SOCKET once they serve (a path or
# an abstract "@" address) and STOPPING=1 when asked to end; task processes
# never inherit the socket; a second daemon in the foreground for the same
# data directory fails instead of serving nothing.
. "$(dirname "$0")/lib.sh"

# listen ADDR FILE: receives datagrams on ADDR, one line each in FILE
# (newlines shown as "|"), in the background; sets LISTENER.
listen() {
	python3 -c '
import socket, sys
addr, out = sys.argv[1], open(sys.argv[2], "a", buffering=1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
out.write("#bound\n")
while True:
    out.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$1" "$2" &
	LISTENER=$!
	wait_until 200 grep -qx '#bound' "$2" 2>/dev/null || fail "the listener on $1 did not start"
}

# unlisten: ends the listener (the EXIT trap ends one left by a failure).
unlisten() {
	kill "$LISTENER"
	wait "$LISTENER" 2>/dev/null || true
}

# got FILE TEXT: waits (at most 10 s) for a datagram holding TEXT.
got() {
	wait_until 200 grep -qF -- "$2" "$1" || fail "no datagram with $2 in $1: $(cat "$1")"
}

# A task that says whether it sees the socket.
jq -n --arg tok "$TOKEN" '{name: "env", tasks: {t: {command: ["sh", "-c", "echo ${NOTIFY_SOCKET-unset}", $tok]}},
  steps: [{id: "t", task: "t"}], results: [{from: "t"}]}' >"$T/env.json"

# The local runtime in the foreground, as runfs-local@.service runs it,
# on a socket of a path.
listen "$T/notify.sock" "$T/local.msgs"
LOCAL_LOG=$T/local-fg.log
RUNFS_LOGS+=("$LOCAL_LOG")
NOTIFY_SOCKET=$T/notify.sock "$RUNFS" up --foreground --data "$DATA" </dev/null >"$LOCAL_LOG" 2>&1 &
lpid=$!
got "$T/local.msgs" "READY=1"
assert_eq "$lpid" "$(local_pid)" "the daemon that said READY=1 is the one runfs status names"
start_runfs local
id=$(submit "$T/env.json")
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "a run on the local runtime"
assert_eq unset "$(rd "$MNT/runs/$id/results/0")" "NOTIFY_SOCKET in a task of the local runtime"
stop_runfs

# A second one for the same data directory fails, saying why.
rc=0
NOTIFY_SOCKET=$T/notify.sock timeout 20 "$RUNFS" up --foreground --data "$DATA" </dev/null >"$T/second.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "a second runfs up --foreground"
assert_contains "$(<"$T/second.out")" "already runs (pid $lpid)" "its message"
assert_eq 1 "$(grep -c READY=1 "$T/local.msgs")" "READY=1 datagrams"

timeout 30 "$RUNFS" down --data "$DATA" >/dev/null
got "$T/local.msgs" "STOPPING=1"
_wait_gone "$lpid" 200 || fail "the local runtime did not end after runfs down"
rc=0
wait "$lpid" || rc=$?
assert_eq 0 "$rc" "the local runtime's exit status"
unlisten

# A mount with -f, as the user unit runfs@.service runs it, on an
# abstract socket.
abstract=@runfs-test-$TOKEN
listen "$abstract" "$T/mount.msgs"
NOTIFY_SOCKET=$abstract start_runfs in_process
got "$T/mount.msgs" "READY=1"
id=$(submit "$T/env.json")
assert_eq SUCCEEDED "$(timeout "$TO" cat "$MNT/runs/$id/wait")" "a run on in_process"
assert_eq unset "$(rd "$MNT/runs/$id/results/0")" "NOTIFY_SOCKET in a task of the mount"
stop_runfs
got "$T/mount.msgs" "STOPPING=1"
unlisten

check_stderr "already runs"
echo "PASS: $TEST_NAME"
