// A stream of length-prefixed messages to a program behind ssh (the SFTP server, obkeep
// serve), shared by many threads with many requests in flight: senders write whole
// messages under a lock, one reader thread hands each reply to whoever waits for it.
// This class holds what both protocols need: the reader thread, the failure of the
// connection (lost, stalled, refused), and waiting in slices that end on a signal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/ssh/ssh_process.hpp"
#include "util/bytes.hpp"

namespace obkeep::storage {

// The connection died under a request (ssh ended, the link was cut): requests that are
// safe to repeat may be repeated on a new connection.
class SshConnectionLost : public Error {
 public:
  using Error::Error;
};

// No byte moved for the stall limit while requests waited: the link is silent.
class SshConnectionStalled : public Error {
 public:
  using Error::Error;
};

class SshChannel {
 public:
  bool failed() const { return failed_.load(); }
  // Backend calls currently using this connection (a pool's measure of load).
  std::atomic<int> users{0};
  // One request's round trip, timed during the handshake (zero when the protocol did not).
  std::chrono::microseconds round_trip() const { return round_trip_; }

 protected:
  // `max_message_length`: a longer length prefix from the server is a protocol error.
  SshChannel(std::unique_ptr<SshProcess> ssh, std::string endpoint, std::chrono::seconds stall_limit,
             uint32_t max_message_length);
  virtual ~SshChannel();
  SshChannel(const SshChannel&) = delete;
  SshChannel& operator=(const SshChannel&) = delete;

  // Starts the reader thread; the derived class calls it once its own fields are ready.
  void start();
  // Ends the reader thread (and ssh at once when the connection failed or nothing is awaited);
  // the derived class's destructor and failed constructor call it before its fields go.
  void stop(bool kill_ssh = false);

  // One message (or a piece of one) on the wire; the caller holds send_mutex_. A message
  // half-written cannot be taken back: any failure here ends the connection.
  void write_all(ByteView data);
  // One message without its length, on the reader thread. Throws Error (a protocol error)
  // to end the connection.
  virtual void deliver(ByteView message) = 0;
  // With mutex_ held: requests are waiting for replies (a silent link then stalls).
  virtual bool awaiting_replies() const = 0;
  // With mutex_ held: the handshake is done. Before it, a failure is worded as ssh_failure()
  // reads ssh's output (unreachable, refused key); after it, as a lost connection.
  virtual bool connected() const = 0;
  // A length prefix of at most the limit, but too short for a message, is a protocol error.
  virtual void check_length(uint32_t length) const = 0;

  // Waits on replied_ in slices while `pending()` holds; throws the connection's failure,
  // Error(interrupted) on a signal, or Error naming the endpoint when `cancelled` is set.
  template <class Pending>
  void wait_while(std::unique_lock<std::mutex>& lock, Pending pending, const std::atomic<bool>* cancelled = nullptr) {
    while (pending()) {
      if (failure_) rethrow_failure();
      replied_.wait_for(lock, slice);
      throw_if_signalled();
      if (cancelled && *cancelled) throw Error("connection to " + endpoint_ + " abandoned");
    }
  }
  void throw_if_signalled() const;

  // Waits for the reply to `id` in `pending` (the derived class's map of slots, each with
  // `done` and `reply`) and takes it. On a failure or a signal the slot is dropped: a late
  // reply finds no one and is not delivered.
  template <class Slots>
  auto take_reply(Slots& pending, uint32_t id) {
    std::unique_lock lock(mutex_);
    try {
      wait_while(lock, [&] {
        auto it = pending.find(id);
        return it == pending.end() || !it->second.done;
      });
    } catch (...) {
      pending.erase(id);
      throw;
    }
    auto reply = std::move(pending[id].reply);
    pending.erase(id);
    return reply;
  }

  void fail(std::exception_ptr failure);
  // failure_ is set once, before failed_: whoever saw failed_ (or holds mutex_) reads it.
  [[noreturn]] void rethrow_failure() { std::rethrow_exception(failure_); }

  static constexpr std::chrono::milliseconds slice{100};

  std::string endpoint_;
  std::mutex mutex_;  // guards failure_ and the derived class's replies
  std::condition_variable replied_;
  std::exception_ptr failure_;
  std::mutex send_mutex_;  // one message at a time on the wire
  std::chrono::microseconds round_trip_{0};
  static std::chrono::microseconds elapsed_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  }

 private:
  void read_replies();
  bool take_output(Bytes& buffer, size_t& have);  // false at the end of the stream
  bool take_errors();                             // false once ssh closed its stderr
  void fail_lost();
  void touch() { last_activity_ = std::chrono::steady_clock::now().time_since_epoch().count(); }

  std::unique_ptr<SshProcess> ssh_;
  std::chrono::seconds stall_limit_;
  uint32_t max_message_length_;
  std::string ssh_errors_;  // the tail of what ssh printed, under mutex_
  std::atomic<bool> failed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_activity_{0};
  std::thread reader_;
};

}  // namespace obkeep::storage
