#!/usr/bin/env python3
"""Writes valid encodings of every repository object into object_decoder_fuzz/, each
prefixed with the byte that selects its decoder in src/repo/object_decoder_fuzz.cpp.
Rerun after a format change: python3 tests/fuzz-seeds/generate.py"""
import base64
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "object_decoder_fuzz")
os.makedirs(out, exist_ok=True)

# The order of enum Decoder in object_decoder_fuzz.cpp.
(INDEX, PACK_HEADER, SEALED_PACK_HEADER, TREE, CONFIG, KEY_FILE, MASTER_KEY, SNAPSHOT, LOCK,
 DUMP_MANIFEST, ARCHIVE_ENTRY) = range(11)
ID = bytes(range(32))
HEX = ID.hex()


def write(name, decoder, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([decoder]) + payload)


def u32(value):
    return struct.pack("<I", value)


index = b"OBKIDX01" + u32(1) + ID + u32(1) + ID + u32(2)
for blob_type, offset in ((0, 0), (1, 100)):
    index += bytes([blob_type]) + u32(offset) + u32(100) + u32(80) + ID
write("index", INDEX, index)
write("pack-header", PACK_HEADER, b"".join(bytes([t]) + u32(100) + u32(80) + ID for t in (0, 1)))
write("sealed-pack-header", SEALED_PACK_HEADER, bytes(12 + 41 + 16) + u32(12 + 41 + 16))

node_file = {"name": "a.txt", "type": "file", "mode": 420, "uid": 1000, "gid": 1000, "user": "u",
             "group": "g", "mtime_ns": 1, "atime_ns": 2, "ctime_ns": 3, "inode": 4, "device": 5,
             "links": 2, "size": 5, "content": [HEX],
             "xattrs": [{"name": "user.x", "value_b64": "eA=="}]}
node_dir = {"name": "d", "type": "dir", "mode": 493, "subtree": HEX}
node_link = {"name_b64": base64.b64encode(b"\xff").decode(), "type": "symlink", "mode": 511,
             "link_target": "/etc/passwd"}
node_dev = {"name": "z", "type": "chardev", "mode": 438, "rdev": 259}
write("tree", TREE, json.dumps({"nodes": [node_file, node_dir, node_link, node_dev]}))

chunker = {"algorithm": "fastcdc-gear", "min_size": 512 * 1024, "average_size": 1 << 20,
           "max_size": 8 << 20, "seed": HEX}
write("config", CONFIG, json.dumps({"version": 2, "id": HEX, "chunker": chunker, "dump_chunker": chunker,
                                    "compression": "zstd"}))
write("key-file", KEY_FILE, json.dumps({"version": 1, "created": "2024-01-01T00:00:00Z", "hostname": "h",
                                        "username": "u", "kdf": "scrypt", "n": 32768, "r": 8, "p": 1,
                                        "salt": base64.b64encode(ID).decode(),
                                        "data": base64.b64encode(bytes(60)).decode()}))
write("master-key", MASTER_KEY, json.dumps({"encryption": base64.b64encode(ID).decode(),
                                            "id_key": base64.b64encode(ID).decode()}))
write("snapshot", SNAPSHOT, json.dumps({"time": "2024-05-06T07:08:09.123456789+02:00", "tree": HEX,
                                        "parent": HEX, "paths": ["/opt/x"], "tags": ["set=wal", "wal=0001"],
                                        "excludes": ["*.tmp"], "hostname": "h", "username": "u",
                                        "program_version": "obkeep 0.1.0",
                                        "summary": {"files": 3, "engines": [{"tables": 2}]}}))
write("lock", LOCK, json.dumps({"time": "2024-05-06T07:08:09Z", "exclusive": False, "hostname": "h",
                                "username": "u", "pid": 42}))
write("manifest-postgresql", DUMP_MANIFEST, json.dumps(
    {"engine": "postgresql", "server_version": "15", "tables": [
        {"schema": "public", "name": "t", "rows": 1, "bytes": 2, "stream": "tables/public.t.copy"}]}))
write("manifest-h2", DUMP_MANIFEST, json.dumps(
    {"engine": "h2", "database": "/data/app", "format": "files",
     "files": ["files/app.mv.db", "files/app.lobs.db/1/2.t"], "crash_consistent_only": False}))
write("archive-entry", ARCHIVE_ENTRY, json.dumps(
    {"version": 1, "kind": "wal", "stanza": "main", "name": "000000010000000000000003", "size": 3,
     "time": "2024-05-06T07:08:09Z",
     "blobs": [{"id": HEX, "pack": HEX, "offset": 0, "stored_length": 32, "raw_length": 3}]}))
