#!/usr/bin/env python3
"""Print a manifest of a directory tree: every attribute a restore must reproduce.

usage: tree_manifest.py DIR [--no-atime] [--no-owner]
Two trees are equal (for a restore test) when their manifests are equal. Hard links
are shown as groups: entries sharing an inode get the same group number.
"""
import hashlib, os, stat, sys

def main():
    root = os.fsencode(sys.argv[1])
    no_owner = "--no-owner" in sys.argv
    inode_groups = {}
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames) + ([] if dirpath != root else [b"."]):
            path = os.path.join(dirpath, name) if name != b"." else root
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            kind = stat.S_IFMT(st.st_mode)
            extra = ""
            if stat.S_ISREG(kind):
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                extra = "size=%d sha=%s" % (st.st_size, h.hexdigest()[:16])
                if st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    inode_groups.setdefault(key, len(inode_groups))
                    extra += " link-group=%d nlink=%d" % (inode_groups[key], st.st_nlink)
            elif stat.S_ISLNK(kind):
                extra = "target=%r" % os.readlink(path)
            elif stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
                extra = "rdev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
            try:
                xattrs = sorted((a, os.getxattr(path, a, follow_symlinks=False)) for a in os.listxattr(path, follow_symlinks=False))
            except OSError:
                xattrs = []
            if xattrs:
                extra += " xattrs=%r" % xattrs
            owner = "" if no_owner else " %d:%d" % (st.st_uid, st.st_gid)
            mtime = "" if stat.S_ISDIR(kind) and rel == "." else " mtime=%d" % st.st_mtime_ns
            out.append("%r %o%s%s %s" % (rel, st.st_mode, owner, mtime, extra))
    sys.stdout.write("\n".join(out) + "\n")

main()
