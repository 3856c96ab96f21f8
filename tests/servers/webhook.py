#!/usr/bin/env python3
"""A webhook receiver for tests: on 127.0.0.1, appends each POSTed JSON body as one line
to EVENTS and answers 200 (or the status given with --status). Writes its port to PORT_FILE.
Exits when the process --parent-pid names is gone.

usage: webhook.py PORT_FILE EVENTS [--status CODE] [--parent-pid PID]"""
import argparse
import http.server
import json
import os
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("events")
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            json.loads(body)  # a webhook must send JSON: a bad body fails the test's checks
            with lock, open(args.events, "a") as out:
                out.write(body.decode() + "\n")
            self.send_response(args.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    if args.parent_pid:
        def watch():
            while True:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                time.sleep(1)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
