#!/usr/bin/env python3
"""Checks a runfs tree the way Unix clients see it (tests/integ/test_walk.sh).

  treecheck.py inodes ROOT            readdir's d_ino against lstat's st_ino
  treecheck.py reads ROOT [SKIP...]   every regular file, read at several
                                      block sizes: full reads until EOF, the
                                      same bytes each time, as many as stat
                                      says, and random preads that match
  treecheck.py backing FILE REAL      FILE (through the mount) against REAL
                                      (its file in the data directory)
  treecheck.py copytree SRC DST       shutil.copytree; prints each failure
  treecheck.py sizes ROOT             the sum of lstat sizes under ROOT
  treecheck.py walk ROOT              os.walk: the number of entries

Files named in SKIP (base names such as wait, events) are left out of
reads. A file that cannot be opened is printed as "unreadable PATH ERRNO"
and is not a failure here: the caller knows which ones may be. Every other
difference is printed as "FAIL: ..." and makes the exit status 1.
"""
import errno
import os
import random
import shutil
import stat
import sys

BLOCKS = (1, 7, 4096, 10240, 65536, 1 << 20)
SMALL = 64 * 1024  # files read a byte at a time are at most this big

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def inodes(root):
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        with os.scandir(dirpath) as it:
            for e in it:
                st = os.lstat(e.path)
                if e.inode() != st.st_ino:
                    fail("%s: readdir gives inode %d, stat %d" % (e.path, e.inode(), st.st_ino))
                kind = stat.S_IFMT(st.st_mode)
                if e.is_dir(follow_symlinks=False) != (kind == stat.S_IFDIR):
                    fail("%s: readdir and stat disagree on its type" % e.path)
                n += 1
    print("inodes: %d entries" % n)


def read_all(path, bs):
    """Reads path in reads of bs bytes; returns the bytes, or fails when a
    read short of bs is followed by more data."""
    out = []
    short = False
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            b = os.read(fd, bs)
            if not b:
                break
            if short:
                fail("%s: a read of %d returned data after a short read" % (path, bs))
                break
            if len(b) < bs:
                short = True
            out.append(b)
    finally:
        os.close(fd)
    return b"".join(out)


def check_file(path):
    st = os.stat(path)
    try:
        first = read_all(path, 4096)
    except OSError as e:
        print("unreadable %s %s" % (path, errno.errorcode.get(e.errno, e.errno)))
        return 0
    if len(first) != st.st_size:
        fail("%s: stat says %d bytes, reads give %d" % (path, st.st_size, len(first)))
    for bs in BLOCKS:
        if bs < 4096 and len(first) > SMALL:
            continue
        # a file smaller than a block: reads of 7 and of 10240 add nothing
        if bs in (7, 10240) and len(first) < 4096:
            continue
        if read_all(path, bs) != first:
            fail("%s: reads of %d give other bytes than reads of 4096" % (path, bs))
    rnd = random.Random(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(16 if len(first) >= 4096 else 4):
            off = rnd.randrange(0, len(first) + 1)
            size = rnd.choice((1, 100, 4096, 70000))
            want = first[off:off + size]
            try:
                got = os.pread(fd, size, off)
            except OSError as e:
                fail("%s: pread(%d, %d): %s" % (path, size, off, e.strerror))
                break
            if got != want:
                fail("%s: pread(%d, %d) gives %d other bytes" % (path, size, off, len(got)))
    finally:
        os.close(fd)
    return 1


def reads(root, skip):
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name in skip or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            n += check_file(path)
    print("reads: %d files" % n)


def backing(path, real):
    with open(real, "rb") as f:
        want = f.read()
    if os.stat(path).st_size != len(want):
        fail("%s: stat says %d bytes, its file has %d" % (path, os.stat(path).st_size, len(want)))
    rnd = random.Random(len(want))
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(200):
            off = rnd.randrange(0, len(want) + 1)
            size = rnd.choice((1, 511, 4096, 131072, 1 << 20))
            if os.pread(fd, size, off) != want[off:off + size]:
                fail("%s: pread(%d, %d) differs from its file" % (path, size, off))
                break
    finally:
        os.close(fd)
    print("backing: %s matches at 200 offsets" % os.path.basename(path))


def copytree(src, dst):
    try:
        shutil.copytree(src, dst)
    except shutil.Error as e:
        for s, _, why in e.args[0]:
            print("copyerror %s %s" % (os.path.relpath(s, src), why))
        sys.exit(3)


def sizes(root):
    total = os.lstat(root).st_size
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    print(total)


def walk(root):
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        n += len(dirnames) + len(filenames)
    print(n)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "inodes":
        inodes(args[0])
    elif cmd == "reads":
        reads(args[0], set(args[1:]))
    elif cmd == "backing":
        backing(args[0], args[1])
    elif cmd == "copytree":
        copytree(args[0], args[1])
    elif cmd == "sizes":
        sizes(args[0])
    elif cmd == "walk":
        walk(args[0])
    else:
        sys.exit("treecheck.py: unknown command " + cmd)
    sys.exit(1 if failures else 0)


main()
