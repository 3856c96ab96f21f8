// latency_proxy: a TCP proxy on 127.0.0.1 that delays each direction of every connection,
// for benchmarks over a simulated WAN (bench/remote.sh). It is the latency path of
// tests/servers/faultproxy.py in C++: that Python proxy queues at most 4 MiB a direction
// (100 MB/s a connection at RTT 80 ms) and its event loop takes CPU the measured tools need;
// this one moves several hundred MB/s a connection on one thread, at any delay up to 40 ms
// one way, and sleeps in epoll when idle.
//
// usage: latency_proxy serve --target-port PORT --port-file FILE --control-port-file FILE
//                            [--delay-ms MS] [--max-seconds S] [--parent-pid PID] [--log FILE]
//        latency_proxy ctl CONTROL_PORT COMMAND [ARGS...]   (prints the answer line;
//                                                           exit 1 on "error: ...")
//
// Listens on 127.0.0.1 (an ephemeral port, written to --port-file) and forwards every
// connection to 127.0.0.1:--target-port; nothing else can be a target. Each direction of
// each connection is a FIFO of chunks stamped with their arrival time: a chunk leaves
// --delay-ms after it arrived, so latency is added without reordering bytes or serialising
// connections. An end of stream travels the same way (shutdown(SHUT_WR) on the other side,
// once the bytes before it left). A direction with 32 MiB queued stops reading until it drains.
//
// Control channel: a TCP port on 127.0.0.1 (written to --control-port-file); one command a
// line, one answer a line. Commands: stats (JSON: connections, active, cut, bytes_up,
// bytes_down, delay_ms, ... with the names faultproxy.py uses), delay MS (for chunks that
// arrive from then on), cut (reset every current connection), pass, quit.
//
// Exits by itself after --max-seconds (default 600) and as soon as --parent-pid is gone.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Nanos = int64_t;
constexpr Nanos kNanosPerMs = 1'000'000;
constexpr Nanos kNanosPerSecond = 1'000'000'000;

// Beyond this many queued-but-unsent bytes a direction stops reading its source, so memory
// stays bounded (two directions, so at most 64 MiB a connection). At 40 ms one way it still
// leaves room for 800 MB/s in flight on one connection.
constexpr size_t kQueueLimit = 32u << 20;
constexpr size_t kReadSize = 256u << 10;
// Bytes are read straight into blocks that are reused, never freed: a chunk allocated per
// read costs page faults (12-15 us a page in a VM), CPU the measured tools would not pay
// over a real link. A block holds consecutive reads; one with less than kReadSize left
// is retired and the next read takes a fresh block.
constexpr size_t kBlockSize = 1u << 20;
// Bytes one direction may read in one turn of the loop before the others get theirs.
constexpr size_t kReadBudget = 4u << 20;
constexpr int kMaxIov = 64;
constexpr size_t kMaxControlLine = 4096;

Nanos monotonic_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

FILE* log_file = stderr;

void log_line(const std::string& message) {
  char stamp[16];
  time_t now = time(nullptr);
  tm local{};
  localtime_r(&now, &local);
  strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
  fprintf(log_file, "%s latency_proxy: %s\n", stamp, message.c_str());
  fflush(log_file);
}

std::string errno_text(int error) { return strerror(error); }

[[noreturn]] void usage_error(const std::string& message) {
  fprintf(stderr, "latency_proxy: %s\n", message.c_str());
  exit(2);
}

// A whole decimal number in [min, max], or nothing.
std::optional<long long> parse_integer(std::string_view text, long long min, long long max) {
  std::string copy(text);
  if (copy.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long value = strtoll(copy.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return std::nullopt;
  return value;
}

// A finite decimal number in [0, max] (milliseconds or seconds), or nothing.
std::optional<double> parse_amount(std::string_view text, double max) {
  std::string copy(text);
  if (copy.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double value = strtod(copy.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(value) || value < 0 || value > max) return std::nullopt;
  return value;
}

void set_nodelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// Closes with RST rather than FIN: SO_LINGER on, zero seconds.
void reset_and_close(int fd) {
  if (fd < 0) return;
  linger abort_now{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  close(fd);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Writes "PORT\n" to path + ".new", then renames it: a reader never sees half a port.
bool write_port_file(const std::string& path, uint16_t port) {
  std::string temporary = path + ".new";
  FILE* file = fopen(temporary.c_str(), "w");
  if (file == nullptr) return false;
  bool written = fprintf(file, "%u\n", unsigned(port)) > 0;
  written = fclose(file) == 0 && written;
  return written && rename(temporary.c_str(), path.c_str()) == 0;
}

// What an epoll event belongs to: the low bits of its data, the rest an id. Ids are never
// reused, so an event for a connection closed earlier in the same batch finds nothing.
enum Tag : uint64_t { kListener = 0, kControlListener = 1, kClientSide = 2, kUpstreamSide = 3, kControlClient = 4 };
constexpr int kTagBits = 3;
uint64_t event_key(uint64_t id, Tag tag) { return (id << kTagBits) | tag; }

// A block of bytes read, shared by the chunks made of it; back to the pool when no chunk
// uses it and no read will fill it further.
struct Block {
  std::unique_ptr<char[]> bytes = std::make_unique_for_overwrite<char[]>(kBlockSize);
  size_t filled = 0;
  unsigned chunks = 0;
};

class BlockPool {
 public:
  Block* take() {
    if (free_.empty()) {
      all_.push_back(std::make_unique<Block>());
      free_.push_back(all_.back().get());
    }
    Block* block = free_.back();
    free_.pop_back();
    block->filled = 0;
    return block;
  }
  void give_back(Block* block) { free_.push_back(block); }

 private:
  std::vector<std::unique_ptr<Block>> all_;
  std::vector<Block*> free_;
};

struct Chunk {
  Nanos due;  // when it may leave: arrival + delay
  Block* block;
  char* bytes;
  size_t size;
  size_t sent = 0;
};

// One socket of a connection. Sockets are edge-triggered: a flag stays true until a read or
// write says the socket is drained or full, and the next epoll edge sets it again.
struct Side {
  int fd = -1;
  bool readable = false;
  bool writable = true;
  bool peer_closed = false;  // an event said EPOLLRDHUP: the peer's end of stream is pending
};

// One direction: bytes read from one side, queued until due, written to the other.
struct Pipe {
  std::deque<Chunk> queue;  // due times never decrease while the delay stays
  Block* filling = nullptr;  // where the next read goes
  size_t queued = 0;        // bytes in `queue` not yet written
  bool eof_read = false;
  Nanos eof_due = 0;
  bool shut = false;  // shutdown(SHUT_WR) sent to the receiving side
};

struct Connection {
  uint64_t id = 0;
  Side client, upstream;
  bool connecting = true;  // the upstream connect() has not completed yet
  Pipe up;                 // client → upstream
  Pipe down;               // upstream → client
};

struct ControlClient {
  int fd = -1;
  std::string input, output;
  bool closing = false;  // close once `output` is written
};

// When the loop must turn again: now (more to read), at a due time, or on events only.
struct Wake {
  bool immediately = false;
  std::optional<Nanos> at;
  void before(Nanos when) {
    if (!at || when < *at) at = when;
  }
};

struct Options {
  uint16_t target_port = 0;
  std::string port_file, control_port_file, log_path;
  double delay_ms = 0;
  double max_seconds = 600;
  pid_t parent_pid = 0;
};

class Proxy {
 public:
  explicit Proxy(const Options& options)
      : options_(options), delay_(Nanos(std::llround(options.delay_ms * kNanosPerMs))) {}

  int run();

 private:
  int listen_on_loopback(uint16_t& port);
  void watch(int fd, uint64_t key, uint32_t events);
  void accept_connections();
  void accept_control_clients();
  void on_side_event(uint64_t id, bool upstream, uint32_t events);
  void on_control_event(uint64_t id);
  std::string command(const std::string& line);
  bool pump(Pipe& pipe, Side& from, Side& to, uint64_t& counter, Nanos now, Wake& wake);
  bool flush(Pipe& pipe, Side& to, uint64_t& counter, Nanos now);
  void release_chunk(Pipe& pipe, Block* block);
  void release_pipe(Pipe& pipe);
  void service_connections(Nanos now, Wake& wake);
  void abort_connection(uint64_t id);
  void close_control(uint64_t id);
  bool keep_running(Nanos now);
  int wait_for_events(epoll_event* events, int capacity, std::optional<Nanos> timeout);

  Options options_;
  Nanos delay_;
  int epoll_fd_ = -1, listen_fd_ = -1, control_fd_ = -1;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::map<uint64_t, ControlClient> controls_;
  uint64_t next_id_ = 1;
  bool running_ = true;
  bool accept_pending_ = false;  // accept() failed for lack of descriptors: try again soon
  bool pwait2_missing_ = false;
  Nanos deadline_ = 0, next_watch_ = 0;
  BlockPool blocks_;
  struct {
    uint64_t connections = 0, cut = 0, bytes_up = 0, bytes_down = 0;
  } stats_;
};

int Proxy::listen_on_loopback(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 512) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

void Proxy::watch(int fd, uint64_t key, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) log_line("epoll_ctl: " + errno_text(errno));
}

void Proxy::accept_connections() {
  accept_pending_ = false;
  for (;;) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log_line("accept: " + errno_text(errno));
        accept_pending_ = true;  // the listener is edge-triggered: no new edge would come
      }
      return;
    }
    ++stats_.connections;
    int upstream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (upstream < 0) {
      log_line("socket: " + errno_text(errno));
      reset_and_close(client);
      continue;
    }
    set_nodelay(client);
    set_nodelay(upstream);
    sockaddr_in target = loopback(options_.target_port);
    bool connected = connect(upstream, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
    if (!connected && errno != EINPROGRESS) {
      // The target is down: the client sees a reset, as it would without the proxy.
      log_line("cannot reach 127.0.0.1:" + std::to_string(options_.target_port) + ": " + errno_text(errno));
      close(upstream);
      reset_and_close(client);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->id = next_id_++;
    connection->client.fd = client;
    connection->upstream.fd = upstream;
    connection->connecting = !connected;
    constexpr uint32_t kSideEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    watch(client, event_key(connection->id, kClientSide), kSideEvents);
    watch(upstream, event_key(connection->id, kUpstreamSide), kSideEvents);
    connections_.emplace(connection->id, std::move(connection));
  }
}

void Proxy::accept_control_clients() {
  for (;;) {
    int fd = accept4(control_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) log_line("accept (control): " + errno_text(errno));
      return;
    }
    uint64_t id = next_id_++;
    controls_[id].fd = fd;
    watch(fd, event_key(id, kControlClient), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  }
}

void Proxy::on_side_event(uint64_t id, bool upstream, uint32_t events) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;  // closed earlier in this batch
  Connection& connection = *found->second;
  Side& side = upstream ? connection.upstream : connection.client;
  if (upstream && connection.connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(side.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
      log_line("cannot reach 127.0.0.1:" + std::to_string(options_.target_port) + ": " + errno_text(error));
      abort_connection(id);
      return;
    }
    if (!(events & EPOLLOUT)) return;
    connection.connecting = false;
  }
  if (events & EPOLLERR) {  // a reset or another socket error: the whole connection goes
    abort_connection(id);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) side.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP)) side.peer_closed = true;
  if (events & (EPOLLOUT | EPOLLHUP)) side.writable = true;
}

// Writes the chunks that are due, oldest first, several per call. False on a socket error.
bool Proxy::flush(Pipe& pipe, Side& to, uint64_t& counter, Nanos now) {
  while (to.writable && !pipe.queue.empty() && pipe.queue.front().due <= now) {
    iovec iov[kMaxIov];
    int count = 0;
    for (const Chunk& chunk : pipe.queue) {
      if (count == kMaxIov || chunk.due > now) break;
      iov[count].iov_base = chunk.bytes + chunk.sent;
      iov[count].iov_len = chunk.size - chunk.sent;
      ++count;
    }
    ssize_t written = writev(to.fd, iov, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        to.writable = false;
        return true;
      }
      return false;
    }
    counter += size_t(written);
    pipe.queued -= size_t(written);
    for (size_t left = size_t(written); left > 0;) {
      Chunk& head = pipe.queue.front();
      size_t rest = head.size - head.sent;
      if (left < rest) {
        head.sent += left;
        break;
      }
      left -= rest;
      release_chunk(pipe, head.block);
      pipe.queue.pop_front();
    }
  }
  return true;
}

void Proxy::release_chunk(Pipe& pipe, Block* block) {
  if (--block->chunks == 0 && block != pipe.filling) blocks_.give_back(block);
}

// A closed connection's blocks go back to the pool.
void Proxy::release_pipe(Pipe& pipe) {
  Block* filling = std::exchange(pipe.filling, nullptr);
  for (Chunk& chunk : pipe.queue) release_chunk(pipe, chunk.block);
  pipe.queue.clear();
  if (filling && filling->chunks == 0) blocks_.give_back(filling);
}

// Moves one direction along: what is due leaves, new bytes are read and queued, an end of
// stream is passed on once everything before it left. False on a socket error.
bool Proxy::pump(Pipe& pipe, Side& from, Side& to, uint64_t& counter, Nanos now, Wake& wake) {
  if (!flush(pipe, to, counter, now)) return false;
  size_t budget = kReadBudget;
  while (from.readable && !pipe.eof_read && pipe.queued < kQueueLimit && budget > 0) {
    if (pipe.filling && kBlockSize - pipe.filling->filled < kReadSize) {
      if (pipe.filling->chunks == 0) blocks_.give_back(pipe.filling);
      pipe.filling = nullptr;
    }
    if (!pipe.filling) pipe.filling = blocks_.take();
    char* at = pipe.filling->bytes.get() + pipe.filling->filled;
    ssize_t got = read(from.fd, at, kReadSize);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        from.readable = false;
        break;
      }
      return false;
    }
    if (got == 0) {
      pipe.eof_read = true;
      pipe.eof_due = now + delay_;
      break;
    }
    size_t size = size_t(got);
    budget -= std::min(budget, size);
    // A short read emptied the socket, and bytes arriving later bring a new edge: no read
    // just to hear EAGAIN. Unless the peer closed: its end of stream brings no further edge.
    if (size < kReadSize && !from.peer_closed) from.readable = false;
    size_t done = 0;
    if (delay_ == 0 && pipe.queue.empty() && to.writable) {
      // Nothing waits ahead of these bytes and they are due already: skip the queue.
      ssize_t written = write(to.fd, at, size);
      if (written >= 0) {
        done = size_t(written);
        counter += done;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        to.writable = false;
      } else if (errno != EINTR) {
        return false;
      }
    }
    if (done < size) {
      pipe.queue.push_back(Chunk{now + delay_, pipe.filling, at + done, size - done});
      pipe.filling->filled += size;
      pipe.filling->chunks++;
      pipe.queued += size - done;
    }
  }
  if (!flush(pipe, to, counter, now)) return false;
  if (from.readable && !pipe.eof_read && pipe.queued < kQueueLimit) wake.immediately = true;  // budget spent
  if (!pipe.queue.empty()) {
    if (to.writable) wake.before(pipe.queue.front().due);  // else EPOLLOUT wakes us
  } else if (pipe.eof_read && !pipe.shut) {
    if (pipe.eof_due <= now) {
      shutdown(to.fd, SHUT_WR);  // an error here shows up on the next read or write
      pipe.shut = true;
    } else {
      wake.before(pipe.eof_due);
    }
  }
  return true;
}

void Proxy::service_connections(Nanos now, Wake& wake) {
  std::vector<uint64_t> failed, finished;
  for (auto& [id, connection] : connections_) {
    Connection& c = *connection;
    if (c.connecting) continue;  // client bytes wait in the kernel until the target answers
    if (!pump(c.up, c.client, c.upstream, stats_.bytes_up, now, wake) ||
        !pump(c.down, c.upstream, c.client, stats_.bytes_down, now, wake)) {
      failed.push_back(id);
    } else if (c.up.shut && c.down.shut) {
      finished.push_back(id);
    }
  }
  for (uint64_t id : failed) abort_connection(id);
  for (uint64_t id : finished) {  // both sides said all they had, and it was delivered
    auto found = connections_.find(id);
    close(found->second->client.fd);
    close(found->second->upstream.fd);
    release_pipe(found->second->up);
    release_pipe(found->second->down);
    connections_.erase(found);
  }
}

void Proxy::abort_connection(uint64_t id) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  reset_and_close(found->second->client.fd);
  reset_and_close(found->second->upstream.fd);
  release_pipe(found->second->up);
  release_pipe(found->second->down);
  connections_.erase(found);
}

std::string Proxy::command(const std::string& line) {
  std::vector<std::string> words;
  for (size_t at = 0; at < line.size();) {
    size_t start = line.find_first_not_of(" \t\r", at);
    if (start == std::string::npos) break;
    size_t end = line.find_first_of(" \t\r", start);
    if (end == std::string::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    at = end;
  }
  if (words.empty()) return "error: empty command";
  const std::string& name = words[0];
  if (name == "stats" && words.size() == 1) {
    // The fields and names of faultproxy.py's stats; the fault counters stay 0 here.
    char json[512];
    snprintf(json, sizeof json,
             "{\"connections\": %llu, \"active\": %zu, \"refused\": 0, \"cut\": %llu, \"requests\": 0, "
             "\"injected_errors\": 0, \"bytes_up\": %llu, \"bytes_down\": %llu, \"delay_ms\": %lld, "
             "\"rate_kbps\": 0, \"mode\": \"pass\", \"proxy\": \"latency_proxy\"}",
             static_cast<unsigned long long>(stats_.connections), connections_.size(),
             static_cast<unsigned long long>(stats_.cut), static_cast<unsigned long long>(stats_.bytes_up),
             static_cast<unsigned long long>(stats_.bytes_down),
             static_cast<long long>(std::llround(double(delay_) / kNanosPerMs)));
    return json;
  }
  if (name == "delay" && words.size() == 2) {
    auto milliseconds = parse_amount(words[1], 3'600'000);
    if (!milliseconds) return "error: delay needs milliseconds (0 to 3600000), not " + words[1];
    delay_ = Nanos(std::llround(*milliseconds * kNanosPerMs));
    return "ok";
  }
  if (name == "cut" && words.size() == 1) {
    std::vector<uint64_t> ids;
    for (const auto& entry : connections_) ids.push_back(entry.first);
    for (uint64_t id : ids) abort_connection(id);
    stats_.cut += ids.size();
    return "ok";
  }
  if (name == "pass" && words.size() == 1) return "ok";  // no faults to clear: latency only
  if (name == "quit" && words.size() == 1) {
    running_ = false;
    return "ok";
  }
  return "error: unknown command: " + line.substr(0, line.find_last_not_of(" \t\r") + 1) +
         " (latency_proxy knows stats, delay MS, cut, pass, quit)";
}

void Proxy::on_control_event(uint64_t id) {
  auto found = controls_.find(id);
  if (found == controls_.end()) return;
  ControlClient& client = found->second;
  bool eof = false;
  char buffer[4096];
  for (;;) {
    ssize_t got = read(client.fd, buffer, sizeof buffer);
    if (got > 0) {
      client.input.append(buffer, size_t(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      close_control(id);
      return;
    }
    eof = got == 0;
    break;
  }
  for (size_t newline; !client.closing && (newline = client.input.find('\n')) != std::string::npos;) {
    std::string line = client.input.substr(0, newline);
    client.input.erase(0, newline + 1);
    std::string answer = command(line);
    if (line.rfind("stats", 0) != 0) log_line("control: " + line + " -> " + answer);
    client.output += answer + "\n";
    if (!running_) client.closing = true;
  }
  if (client.input.size() > kMaxControlLine) {
    client.output += "error: command line too long\n";
    client.closing = true;
  } else if (eof && !client.closing) {
    if (!client.input.empty()) client.output += command(client.input) + "\n";  // a last line without \n
    client.closing = true;
  }
  while (!client.output.empty()) {
    ssize_t written = write(client.fd, client.output.data(), client.output.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT brings us back
      close_control(id);
      return;
    }
    client.output.erase(0, size_t(written));
  }
  if (client.closing) close_control(id);
}

void Proxy::close_control(uint64_t id) {
  auto found = controls_.find(id);
  if (found == controls_.end()) return;
  close(found->second.fd);
  controls_.erase(found);
}

// The lifetime limits, checked about once a second.
bool Proxy::keep_running(Nanos now) {
  if (now < next_watch_) return true;
  next_watch_ = now + kNanosPerSecond;
  if (now >= deadline_) {
    log_line("max lifetime of " + std::to_string(std::llround(options_.max_seconds)) + "s reached, exiting");
    return false;
  }
  if (options_.parent_pid > 0 && kill(options_.parent_pid, 0) != 0 && errno == ESRCH) {
    log_line("parent " + std::to_string(options_.parent_pid) + " is gone, exiting");
    return false;
  }
  return true;
}

// epoll_wait with a nanosecond timeout (epoll_pwait2, Linux 5.11); on older kernels the
// timeout is rounded up to whole milliseconds, so chunks leave at most 1 ms late.
int Proxy::wait_for_events(epoll_event* events, int capacity, std::optional<Nanos> timeout) {
  if (!pwait2_missing_) {
    timespec limit{};
    if (timeout) {
      limit.tv_sec = *timeout / kNanosPerSecond;
      limit.tv_nsec = *timeout % kNanosPerSecond;
    }
    int count = epoll_pwait2(epoll_fd_, events, capacity, timeout ? &limit : nullptr, nullptr);
    if (count >= 0 || errno != ENOSYS) return count;
    pwait2_missing_ = true;
  }
  int milliseconds = timeout ? int((*timeout + kNanosPerMs - 1) / kNanosPerMs) : -1;
  return epoll_wait(epoll_fd_, events, capacity, milliseconds);
}

int Proxy::run() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  uint16_t port = 0, control_port = 0;
  if (epoll_fd_ < 0 || (listen_fd_ = listen_on_loopback(port)) < 0 ||
      (control_fd_ = listen_on_loopback(control_port)) < 0) {
    log_line("cannot listen on 127.0.0.1: " + errno_text(errno));
    return 1;
  }
  watch(listen_fd_, event_key(0, kListener), EPOLLIN | EPOLLET);
  watch(control_fd_, event_key(0, kControlListener), EPOLLIN | EPOLLET);
  // The control port first: whoever sees the port file may use both.
  if (!write_port_file(options_.control_port_file, control_port) || !write_port_file(options_.port_file, port)) {
    log_line("cannot write the port files: " + errno_text(errno));
    return 1;
  }
  char delay_text[32];
  snprintf(delay_text, sizeof delay_text, "%g", options_.delay_ms);
  log_line("listening on 127.0.0.1:" + std::to_string(port) + " (control " + std::to_string(control_port) +
           "), target 127.0.0.1:" + std::to_string(options_.target_port) + ", delay " + delay_text + "ms");
  Nanos start = monotonic_now();
  deadline_ = start + Nanos(options_.max_seconds * double(kNanosPerSecond));
  next_watch_ = start;

  constexpr int kEvents = 256;
  epoll_event events[kEvents];
  while (running_) {
    Nanos now = monotonic_now();
    if (!keep_running(now)) break;
    Wake wake;
    if (accept_pending_) accept_connections();
    service_connections(now, wake);
    Nanos timeout = next_watch_ - now;
    if (accept_pending_) timeout = std::min(timeout, 100 * kNanosPerMs);
    if (wake.immediately) {
      timeout = 0;
    } else if (wake.at) {
      timeout = std::min(timeout, std::max<Nanos>(0, *wake.at - monotonic_now()));
    }
    int count = wait_for_events(events, kEvents, std::max<Nanos>(0, timeout));
    if (count < 0) {
      if (errno == EINTR) continue;
      log_line("epoll_wait: " + errno_text(errno));
      return 1;
    }
    for (int i = 0; i < count && running_; ++i) {
      uint64_t key = events[i].data.u64;
      uint64_t id = key >> kTagBits;
      switch (Tag(key & ((1u << kTagBits) - 1))) {
        case kListener: accept_connections(); break;
        case kControlListener: accept_control_clients(); break;
        case kClientSide: on_side_event(id, false, events[i].events); break;
        case kUpstreamSide: on_side_event(id, true, events[i].events); break;
        case kControlClient: on_control_event(id); break;
      }
    }
  }
  // As faultproxy.py: connections still open are reset; a control answer not yet sent is lost.
  std::vector<uint64_t> ids;
  for (const auto& entry : connections_) ids.push_back(entry.first);
  for (uint64_t id : ids) abort_connection(id);
  for (auto& [id, client] : controls_) close(client.fd);
  return 0;
}

// latency_proxy ctl PORT COMMAND...: sends one command line, prints the answer line.
int control_client(int argc, char** argv) {
  if (argc < 4) usage_error("usage: latency_proxy ctl CONTROL_PORT COMMAND [ARGS...]");
  auto port = parse_integer(argv[2], 1, 65535);
  if (!port) usage_error(std::string("not a port: ") + argv[2]);
  std::string line;
  for (int i = 3; i < argc; ++i) line += std::string(i > 3 ? " " : "") + argv[i];
  line += "\n";
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval ten_seconds{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ten_seconds, sizeof ten_seconds);
  sockaddr_in address = loopback(uint16_t(*port));
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    fprintf(stderr, "latency_proxy: cannot connect to the control port %lld: %s\n", *port, strerror(errno));
    return 1;
  }
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != ssize_t(line.size())) {
    fprintf(stderr, "latency_proxy: cannot send to the control port: %s\n", strerror(errno));
    return 1;
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    answer.append(buffer, size_t(got));
    if (answer.find('\n') != std::string::npos) break;
  }
  close(fd);
  answer = answer.substr(0, answer.find('\n'));
  printf("%s\n", answer.c_str());
  return answer.empty() || answer.rfind("error", 0) == 0 ? 1 : 0;
}

Options parse_serve_options(int argc, char** argv) {
  Options options;
  bool have_target = false;
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i], value;
    size_t equals = name.find('=');
    bool inline_value = name.rfind("--", 0) == 0 && equals != std::string::npos;
    if (inline_value) {
      value = name.substr(equals + 1);
      name.resize(equals);
    }
    if (name == "--http" || name == "--rate-kbps" || name == "--target-host")
      usage_error(name + " is a faultproxy.py option; latency_proxy only adds latency (use the Python proxy)");
    if (!inline_value) {
      if (i + 1 == argc) usage_error(name + " needs a value");
      value = argv[++i];
    }
    if (name == "--target-port") {
      auto port = parse_integer(value, 1, 65535);
      if (!port) usage_error("--target-port: not a port: " + value);
      options.target_port = uint16_t(*port);
      have_target = true;
    } else if (name == "--port-file") {
      options.port_file = value;
    } else if (name == "--control-port-file") {
      options.control_port_file = value;
    } else if (name == "--delay-ms") {
      auto milliseconds = parse_amount(value, 3'600'000);
      if (!milliseconds) usage_error("--delay-ms: not a number of milliseconds (0 to 3600000): " + value);
      options.delay_ms = *milliseconds;
    } else if (name == "--max-seconds") {
      auto seconds = parse_amount(value, 1e8);
      if (!seconds || *seconds <= 0) usage_error("--max-seconds: not a positive number of seconds: " + value);
      options.max_seconds = *seconds;
    } else if (name == "--parent-pid") {
      auto pid = parse_integer(value, 0, 0x7fffffff);
      if (!pid) usage_error("--parent-pid: not a process id: " + value);
      options.parent_pid = pid_t(*pid);
    } else if (name == "--log") {
      options.log_path = value;
    } else {
      usage_error("unknown option " + name);
    }
  }
  if (!have_target || options.port_file.empty() || options.control_port_file.empty())
    usage_error("serve needs --target-port PORT --port-file FILE --control-port-file FILE");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer that went away is an EPIPE on write, handled there
  std::string mode = argc >= 2 ? argv[1] : "";
  if (mode == "ctl") return control_client(argc, argv);
  if (mode != "serve") {
    usage_error(
        "usage: latency_proxy serve --target-port PORT --port-file FILE --control-port-file FILE "
        "[--delay-ms MS] [--max-seconds S] [--parent-pid PID] [--log FILE]\n"
        "       latency_proxy ctl CONTROL_PORT COMMAND [ARGS...]");
  }
  Options options = parse_serve_options(argc, argv);
  if (!options.log_path.empty()) {
    log_file = fopen(options.log_path.c_str(), "a");
    if (log_file == nullptr) usage_error("cannot open the log " + options.log_path + ": " + strerror(errno));
  }
  return Proxy(options).run();
}
