#!/usr/bin/env python3
"""Sends one crafted obkeep serve request through ssh, as a hostile client holding the key
would, and prints the server's answer as "STATUS message" (docs/serve-protocol.md).

usage: serve_request.py SSH_CONFIG USER@HOST PORT ACTION TYPE NAME [DATA_FILE]
ACTION: remove | save (DATA_FILE's bytes under NAME) | load
TYPE:   config key pack index snapshot lock copies journal archive
"""
import struct
import subprocess
import sys

KINDS = {"hello": 0x01, "save_begin": 0x11, "save_data": 0x12, "load": 0x13, "remove": 0x15}
TYPES = ["config", "key", "pack", "index", "snapshot", "lock", "copies", "journal", "archive"]
STATUSES = ["ok", "not_found", "short_object", "refused", "exists", "bad_request", "failed"]


def frame(kind, request_id, fields=b""):
    body = struct.pack(">BI", KINDS[kind], request_id) + fields
    return struct.pack(">I", len(body)) + body


def string(data):
    return struct.pack(">I", len(data)) + data


def read_exactly(stream, length):
    data = b""
    while len(data) < length:
        piece = stream.read(length - len(data))
        if not piece:
            sys.exit("the server ended the session")
        data += piece
    return data


def reply(stream):
    (length,) = struct.unpack(">I", read_exactly(stream, 4))
    body = read_exactly(stream, length)
    _, request_id, status = struct.unpack(">BIB", body[:6])
    message = ""
    if status != 0:
        (size,) = struct.unpack(">I", body[6:10])
        message = body[10:10 + size].decode()
    return request_id, STATUSES[status], message


def main():
    config, target, port, action, type_name, name = sys.argv[1:7]
    ssh = subprocess.Popen(["ssh", "-F", config, "-p", port, "-T", target, "obkeep serve --stdio"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    handle = bytes([TYPES.index(type_name)]) + string(name.encode())
    requests = frame("hello", 1, string(b"obkeep-serve") + struct.pack(">I", 1) + string(b""))
    if action == "remove":
        requests += frame("remove", 2, handle)
    elif action == "save":
        data = open(sys.argv[7], "rb").read()
        requests += frame("save_begin", 2, handle + struct.pack(">Q", len(data)))
        for at in range(0, len(data), 1 << 20):  # pieces under the frame limit
            requests += frame("save_data", 2, data[at:at + (1 << 20)])
    elif action == "load":
        requests += frame("load", 2, handle + struct.pack(">QQ", 0, 0))
    ssh.stdin.write(requests)
    ssh.stdin.flush()
    for _ in range(2):
        request_id, status, message = reply(ssh.stdout)
        if request_id == 2:
            print(status, message)
    ssh.stdin.close()
    ssh.wait()


main()
