#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that injects network faults, for integration tests.

usage: faultproxy.py serve --target-port PORT --port-file FILE --control-port-file FILE
                           [--delay-ms MS] [--rate-kbps KBPS] [--http] [--max-seconds S]
                           [--parent-pid PID] [--log FILE]
       faultproxy.py ctl CONTROL_PORT COMMAND [ARGS...]   (prints the answer line)

Listens on 127.0.0.1 (an ephemeral port, written to --port-file) and forwards every
connection to 127.0.0.1:--target-port; nothing but 127.0.0.1 can be a target. Each
direction of each connection is a queue of chunks stamped with the time they arrived:
a chunk leaves --delay-ms after that, so latency is added without reordering bytes or
serialising connections (many connections run at once). --rate-kbps caps each
direction of each connection (KiB/s; 0 = unlimited).

Control channel: a TCP port on 127.0.0.1 (written to --control-port-file); one command
a line, one answer a line ("ok", a JSON object, or "error: ..."). Commands:
  stats                  counters as JSON: connections (accepted), active, refused, cut,
                         requests, injected_errors, bytes_up (client→target),
                         bytes_down (target→client), delay_ms, mode
  cut                    abort every current connection (RST: SO_LINGER 0)
  refuse N               reset the next N new connections right after accepting them
  refuse-for SECONDS     reset every new connection for that long
  cut-after-bytes N [T]  abort a connection once N more bytes went upstream through it
                         (counted from this command); at most T connections (default: all,
                         until `pass`)
  http-error CODE N [close] [match=TEXT]...
                         (--http only) answer the next N HTTP requests (only those whose
                         request line contains every TEXT, e.g. match=PUT match=/data/) with CODE and an
                         S3-style XML error (503 SlowDown, 500 InternalError, ...), after
                         reading their whole body; the connection stays usable unless
                         `close` is given. Every request line, and each answered one, is
                         logged to --log.
  stall                  stop forwarding bytes (connections stay open, new ones are accepted
                         and get nothing): a network that went silent, until `pass`
  delay MS / rate KBPS   change the delay / the rate of new chunks
  pass                   back to normal: no refusing, cutting or injected errors
  quit                   exit

With --http, the client→target stream is parsed as HTTP/1.1 requests (Content-Length or
chunked bodies) so requests can be counted and answered; clients must not pipeline
(curl does not). TLS cannot be parsed: use it in front of a plain-http server.

The proxy exits by itself after --max-seconds (default 600) and as soon as --parent-pid
(the test that started it) is gone.
"""
import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import time

REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Slow Down", 504: "Gateway Timeout",
           429: "Too Many Requests", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
S3_CODES = {500: ("InternalError", "We encountered an internal error. Please try again."),
            503: ("SlowDown", "Please reduce your request rate."),
            502: ("BadGateway", "Bad gateway (injected)."),
            504: ("GatewayTimeout", "Gateway timeout (injected)."),
            429: ("SlowDown", "Please reduce your request rate."),
            403: ("AccessDenied", "Access Denied"),
            404: ("NoSuchKey", "The specified key does not exist."),
            400: ("BadRequest", "Bad request (injected).")}
LOCALHOST = ("127.0.0.1", "localhost")


def reset(writer):
    """Abort a connection with RST rather than FIN: SO_LINGER on, zero seconds."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class Stats:
    def __init__(self):
        self.connections = 0
        self.refused = 0
        self.cut = 0
        self.requests = 0
        self.injected_errors = 0
        self.bytes_up = 0
        self.bytes_down = 0


class Faults:
    """What the control channel asked for; read by every connection."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.refuse_count = 0
        self.refuse_until = 0.0
        self.cut_after = None  # bytes upstream per connection, counted from `epoch`
        self.cut_epoch = 0
        self.cut_budget = None  # connections still to cut; None = unlimited
        self.error_code = 0
        self.error_count = 0
        self.error_close = False
        self.error_match = []  # texts the request line must all contain
        self.flowing = getattr(self, "flowing", None) or asyncio.Event()
        self.flowing.set()

    def mode(self):
        parts = []
        if self.refuse_count:
            parts.append("refuse %d" % self.refuse_count)
        if self.refuse_until > time.monotonic():
            parts.append("refuse-for %.1fs" % (self.refuse_until - time.monotonic()))
        if self.cut_after is not None and (self.cut_budget is None or self.cut_budget > 0):
            parts.append("cut-after-bytes %d" % self.cut_after +
                         ("" if self.cut_budget is None else " x%d" % self.cut_budget))
        if not self.flowing.is_set():
            parts.append("stall")
        if self.error_count:
            parts.append("http-error %d x%d%s" % (self.error_code, self.error_count,
                                                  "".join(" match=" + t for t in self.error_match)))
        return ", ".join(parts) or "pass"


class HttpRequestParser:
    """Splits a client→server byte stream into HTTP/1.1 requests, incrementally.

    feed() returns a list of events: ("head", bytes, method) when a request's header is
    complete, ("body", bytes) for body bytes, ("end",) when the request is complete."""

    def __init__(self):
        self.buffer = b""
        self.state = "head"
        self.remaining = 0  # body bytes (or chunk bytes) still expected
        self.method = ""

    def feed(self, data):
        self.buffer += data
        events = []
        while True:
            if self.state == "head":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, self.buffer = self.buffer[:end + 4], self.buffer[end + 4:]
                lines = head.decode("latin-1").split("\r\n")
                self.method = lines[0].split(" ", 1)[0]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                events.append(("head", head, self.method))
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    self.state = "chunk-size"
                else:
                    self.remaining = int(headers.get("content-length", "0") or 0)
                    self.state = "body"
            elif self.state == "body":
                n = min(self.remaining, len(self.buffer))
                if n:
                    events.append(("body", self.buffer[:n]))
                    self.buffer = self.buffer[n:]
                    self.remaining -= n
                if self.remaining:
                    break
                events.append(("end",))
                self.state = "head"
            elif self.state == "chunk-size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                line, self.buffer = self.buffer[:end + 2], self.buffer[end + 2:]
                events.append(("body", line))
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.state = "trailer"
                else:
                    self.remaining = size + 2  # the chunk and its CRLF
                    self.state = "chunk-data"
            elif self.state == "chunk-data":
                n = min(self.remaining, len(self.buffer))
                if n:
                    events.append(("body", self.buffer[:n]))
                    self.buffer = self.buffer[n:]
                    self.remaining -= n
                if self.remaining:
                    break
                self.state = "chunk-size"
            elif self.state == "trailer":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                line, self.buffer = self.buffer[:end + 2], self.buffer[end + 2:]
                events.append(("body", line))
                if line == b"\r\n":
                    events.append(("end",))
                    self.state = "head"
        return events


def error_response(code, method):
    s3_code, message = S3_CODES.get(code, ("InjectedError", "Injected by faultproxy."))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>faultproxy</RequestId></Error>' % (s3_code, message)).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nx-amz-request-id: faultproxy\r\n"
            "Content-Length: %d\r\n" % (code, REASONS.get(code, "Error"), len(body)))
    if code in (503, 429):
        head += "Retry-After: 1\r\n"
    head += "\r\n"
    return head.encode() + (b"" if method == "HEAD" else body)


class Pipe:
    """One direction of one connection: chunks leave `delay` after they arrived, in order,
    at most `rate` bytes a second."""

    LIMIT = 4 << 20  # bytes queued before the reading side waits: back-pressure, bounded memory

    def __init__(self, proxy, writer, direction):
        self.proxy = proxy
        self.writer = writer
        self.direction = direction
        self.queue = asyncio.Queue()
        self.queued = 0
        self.room = asyncio.Event()
        self.room.set()

    def put(self, data, close_after=False):
        self.queue.put_nowait((time.monotonic() + self.proxy.delay, data, close_after))
        self.queued += len(data)
        if self.queued > self.LIMIT:
            self.room.clear()

    def finish(self):
        self.queue.put_nowait((time.monotonic() + self.proxy.delay, None, False))

    async def run(self, connection):
        try:
            await self.send(connection)
        except (OSError, RuntimeError):
            connection.abort()  # the receiving side is gone: so is the whole connection

    async def send(self, connection):
        while not connection.closed:
            due, data, close_after = await self.queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.proxy.faults.flowing.wait()
            if data is None:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                return
            rate = self.proxy.rate
            step = max(1, rate // 20) if rate else len(data)
            for start in range(0, len(data), step):
                piece = data[start:start + step]
                self.writer.write(piece)
                if self.direction == "up":
                    self.proxy.stats.bytes_up += len(piece)
                else:
                    self.proxy.stats.bytes_down += len(piece)
                await self.writer.drain()
                self.queued -= len(piece)
                if self.queued <= self.LIMIT:
                    self.room.set()
                if rate:
                    await asyncio.sleep(len(piece) / rate)
            if close_after:
                self.writer.close()
                return


class Connection:
    def __init__(self, proxy, client_reader, client_writer):
        self.proxy = proxy
        self.client_reader = client_reader
        self.client_writer = client_writer
        self.upstream_writer = None
        self.sent_since_epoch = 0
        self.epoch = proxy.faults.cut_epoch
        self.closed = False
        self.pipes = []

    def abort(self):
        if not self.closed:
            self.closed = True
            reset(self.client_writer)
            reset(self.upstream_writer)
            for pipe in self.pipes:
                pipe.room.set()  # no reader waits for a queue that will never drain

    def over_cut_limit(self, more):
        """How many of `more` bytes may still go upstream before this connection is cut;
        None when no cut applies."""
        faults = self.proxy.faults
        if faults.cut_after is None:
            return None
        if faults.cut_budget is not None and faults.cut_budget <= 0:
            return None
        if self.epoch != faults.cut_epoch:
            self.epoch, self.sent_since_epoch = faults.cut_epoch, 0
        allowed = faults.cut_after - self.sent_since_epoch
        return allowed if more >= allowed else None

    async def run(self):
        proxy = self.proxy
        try:
            upstream_reader, self.upstream_writer = await asyncio.open_connection("127.0.0.1", proxy.target_port)
        except OSError:
            reset(self.client_writer)  # the target is down: the client sees a reset, as without us
            return
        up = Pipe(proxy, self.upstream_writer, "up")
        down = Pipe(proxy, self.client_writer, "down")
        self.pipes = [up, down]
        tasks = [asyncio.ensure_future(up.run(self)), asyncio.ensure_future(down.run(self)),
                 asyncio.ensure_future(self.pump_down(upstream_reader, down)),
                 asyncio.ensure_future(self.pump_up(up, down))]
        try:
            await asyncio.wait(tasks[2:], return_when=asyncio.ALL_COMPLETED)
            if not self.closed:  # both sides said all they had: let the queues drain
                await asyncio.wait(tasks[:2], timeout=proxy.delay + 30)
        finally:
            for task in tasks:
                task.cancel()
            proxy.connections.discard(self)
            if not self.closed:
                self.closed = True
                self.client_writer.close()
                self.upstream_writer.close()

    async def pump_down(self, upstream_reader, down):
        try:
            while data := await upstream_reader.read(65536):
                down.put(data)
                await down.room.wait()
                if self.closed:
                    return
        except (OSError, asyncio.IncompleteReadError):
            self.abort()
            return
        down.finish()

    def forward_up(self, up, data):
        """Queues bytes for the target, cutting the connection at the cut-after-bytes mark.
        Returns False once cut."""
        allowed = self.over_cut_limit(len(data))
        if allowed is not None:
            faults = self.proxy.faults
            if allowed > 0:
                up.put(data[:allowed])
            if faults.cut_budget is not None:
                faults.cut_budget -= 1
            self.proxy.stats.cut += 1
            self.proxy.log("cut a connection after %d bytes upstream" % faults.cut_after)
            # Let the allowed bytes leave first, then reset both sides.
            asyncio.get_running_loop().call_later(self.proxy.delay + 0.05, self.abort)
            return False
        self.sent_since_epoch += len(data)
        up.put(data)
        return True

    async def pump_up(self, up, down):
        proxy = self.proxy
        parser = HttpRequestParser() if proxy.http else None
        injecting = None  # the method of a request being answered by us, its body swallowed
        close_after = False
        try:
            while data := await self.client_reader.read(65536):
                await up.room.wait()
                if self.closed:
                    return
                if parser is None:
                    if not self.forward_up(up, data):
                        return
                    continue
                for event in parser.feed(data):
                    if event[0] == "head":
                        proxy.stats.requests += 1
                        faults = proxy.faults
                        request_line = event[1].split(b"\r\n", 1)[0].decode("latin-1")
                        proxy.log("request " + request_line)
                        if faults.error_count > 0 and all(t in request_line for t in faults.error_match):
                            faults.error_count -= 1
                            proxy.stats.injected_errors += 1
                            close_after = faults.error_close
                            proxy.log("answered %s with %d" % (request_line, faults.error_code))
                            injecting = (event[2], faults.error_code)
                        elif not self.forward_up(up, event[1]):
                            return
                    elif event[0] == "body":
                        if injecting is None and not self.forward_up(up, event[1]):
                            return
                    elif event[0] == "end" and injecting is not None:
                        down.put(error_response(injecting[1], injecting[0]), close_after=close_after)
                        injecting = None
                        if close_after:
                            return
        except (OSError, ValueError):
            self.abort()
            return
        up.finish()


class Proxy:
    def __init__(self, args):
        self.target_port = args.target_port
        self.delay = args.delay_ms / 1000.0
        self.rate = args.rate_kbps * 1024
        self.http = args.http
        self.stats = Stats()
        self.faults = None  # made in main(): it holds an asyncio.Event of the running loop
        self.connections = set()
        self.log_file = open(args.log, "a", buffering=1) if args.log else sys.stderr

    def log(self, message):
        self.log_file.write("%s faultproxy: %s\n" % (time.strftime("%H:%M:%S"), message))

    async def accept(self, reader, writer):
        self.stats.connections += 1
        faults = self.faults
        if faults.refuse_count > 0 or faults.refuse_until > time.monotonic():
            if faults.refuse_count > 0:
                faults.refuse_count -= 1
            self.stats.refused += 1
            reset(writer)
            return
        connection = Connection(self, reader, writer)
        self.connections.add(connection)
        await connection.run()

    def control(self, line):
        words = line.split()
        if not words:
            return "error: empty command"
        command, args = words[0], words[1:]
        faults = self.faults
        if command == "stats":
            s = self.stats
            return json.dumps({"connections": s.connections, "active": len(self.connections), "refused": s.refused,
                               "cut": s.cut, "requests": s.requests, "injected_errors": s.injected_errors,
                               "bytes_up": s.bytes_up, "bytes_down": s.bytes_down,
                               "delay_ms": round(self.delay * 1000), "rate_kbps": self.rate // 1024,
                               "mode": faults.mode()})
        if command == "cut":
            for connection in list(self.connections):
                connection.abort()
                self.stats.cut += 1
            return "ok"
        if command == "refuse" and len(args) == 1:
            faults.refuse_count = int(args[0])
            return "ok"
        if command == "refuse-for" and len(args) == 1:
            faults.refuse_until = time.monotonic() + float(args[0])
            return "ok"
        if command == "cut-after-bytes" and len(args) in (1, 2):
            faults.cut_after = int(args[0])
            faults.cut_epoch += 1
            faults.cut_budget = int(args[1]) if len(args) == 2 else None
            return "ok"
        if command == "http-error" and len(args) >= 2:
            if not self.http:
                return "error: http-error needs --http"
            options = args[2:]
            close = "close" in options
            match = [o[len("match="):] for o in options if o.startswith("match=")]
            if len(options) != close + len(match):
                return "error: usage: http-error CODE N [close] [match=TEXT]..."
            faults.error_code, faults.error_count = int(args[0]), int(args[1])
            faults.error_close, faults.error_match = close, match
            return "ok"
        if command == "stall" and not args:
            faults.flowing.clear()
            return "ok"
        if command == "delay" and len(args) == 1:
            self.delay = float(args[0]) / 1000.0
            return "ok"
        if command == "rate" and len(args) == 1:
            self.rate = int(args[0]) * 1024
            return "ok"
        if command == "pass":
            faults.clear()
            return "ok"
        if command == "quit":
            asyncio.get_running_loop().call_soon(self.stop.set)
            return "ok"
        return "error: unknown command: " + line.strip()

    async def serve_control(self, reader, writer):
        try:
            while line := await reader.readline():
                try:
                    answer = self.control(line.decode())
                except ValueError as e:
                    answer = "error: " + str(e)
                if not line.decode().startswith("stats"):
                    self.log("control: %s -> %s" % (line.decode().strip(), answer))
                writer.write(answer.encode() + b"\n")
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def watch(self, parent_pid, max_seconds):
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            if parent_pid:
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    self.log("parent %d is gone, exiting" % parent_pid)
                    break
            await asyncio.sleep(0.5)
        else:
            self.log("max lifetime of %ds reached, exiting" % max_seconds)
        self.stop.set()

    async def main(self, args):
        self.stop = asyncio.Event()
        self.faults = Faults()
        server = await asyncio.start_server(self.accept, "127.0.0.1", 0, backlog=128)
        control = await asyncio.start_server(self.serve_control, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        control_port = control.sockets[0].getsockname()[1]
        for path, value in ((args.control_port_file, control_port), (args.port_file, port)):
            with open(path + ".new", "w") as f:
                f.write("%d\n" % value)
            os.rename(path + ".new", path)  # a reader never sees a half-written port
        self.log("listening on 127.0.0.1:%d (control %d), target 127.0.0.1:%d, delay %dms%s"
                 % (port, control_port, self.target_port, args.delay_ms, ", http" if self.http else ""))
        watcher = asyncio.ensure_future(self.watch(args.parent_pid, args.max_seconds))
        await self.stop.wait()
        watcher.cancel()
        server.close()
        control.close()
        for connection in list(self.connections):
            connection.abort()


def control_client(port, words):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as s:
        s.sendall((" ".join(words) + "\n").encode())
        answer = s.makefile().readline().strip()
    print(answer)
    return 1 if not answer or answer.startswith("error") else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "ctl":
        if len(sys.argv) < 4:
            sys.exit("usage: faultproxy.py ctl CONTROL_PORT COMMAND [ARGS...]")
        sys.exit(control_client(sys.argv[2], sys.argv[3:]))
    parser = argparse.ArgumentParser(description="A fault-injecting TCP proxy on 127.0.0.1 for tests.")
    parser.add_argument("mode", choices=["serve"])
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--control-port-file", required=True)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--rate-kbps", type=int, default=0, help="KiB/s per direction per connection; 0: no cap")
    parser.add_argument("--http", action="store_true", help="parse HTTP/1.1 requests (plain http targets)")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    parser.add_argument("--log")
    args = parser.parse_args()
    if args.target_host not in LOCALHOST:
        sys.exit("faultproxy: only 127.0.0.1 may be a target, not " + args.target_host)
    asyncio.run(Proxy(args).main(args))


if __name__ == "__main__":
    main()
