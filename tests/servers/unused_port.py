#!/usr/bin/env python3
"""Prints a TCP port no socket on 127.0.0.1 holds now, below the kernel's ephemeral range
(32768+): a port the kernel picked could be handed to another test's outgoing connection
before the server meant to listen on it binds it."""
import random
import socket
import sys

for _ in range(200):
    port = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("no unused port found between 20000 and 32000")
