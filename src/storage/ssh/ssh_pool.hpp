// A pool of connections to one server through ssh (SFTP sessions, obkeep serve sessions),
// opened as calls overlap, with the retry of a call whose connection was lost.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/ssh/ssh_channel.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::storage {

// How times a call is tried when its connection is lost.
constexpr int ssh_call_attempts = 5;

// Connections the pool opens at once when it starts.
constexpr size_t handshakes_at_once = 8;

// One ssh connection moves at most its channel window a round trip (OpenSSH's client
// advertises 2 MB: 25 MB/s at RTT 80 ms, whatever is in flight). Four connections carry
// ~400 MB/s up to RTT 20 ms; farther sites get one more per 5 ms of round trip, so that
// the window allows the same, up to 16 connections (each an ssh process at both ends).
inline size_t connections_for_round_trip(std::chrono::microseconds round_trip) {
  constexpr size_t fewest = 4, most = 16;
  auto per_connection = std::chrono::milliseconds(5);
  size_t wanted = static_cast<size_t>((round_trip + per_connection / 2) / per_connection);
  return std::clamp(wanted, fewest, most);
}

// The repository was reachable when opened: losing it later is an ordinary failure, not
// "no repository" (exit 10 tells scripts to run init).
[[noreturn]] inline void rethrow_as_ordinary_failure(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    if (e.code() != ExitCode::no_repository) throw;
    throw Error(e.what(), ExitCode::error);
  }
}

// `Connection` has `std::atomic<int> users` and `bool failed()` (an SshChannel does).
template <class Connection>
class SshPool {
 public:
  // Opens a connection, given a flag that abandons the handshake when set.
  using Connect = std::function<std::shared_ptr<Connection>(const std::atomic<bool>* cancelled)>;

  // How many connections to keep, given the first one (its round trip); `cancelled`, once
  // set, abandons a wait for it (the pool is going away).
  using Size = std::function<size_t(Connection& first, const std::atomic<bool>* cancelled)>;

  // Connects once (so a bad host, key or path fails here), then sizes the pool (`size` may
  // wait for the first connection to time the link) and opens the others in the
  // background while the first does the command's first round trips, so that transfers
  // find them ready (each costs a handshake of several round trips). Until it is sized,
  // calls share the first connection, and max_connections() waits.
  SshPool(Connect connect, size_t max_connections)
      : SshPool(std::move(connect), [max_connections](Connection&, const std::atomic<bool>*) { return max_connections; }) {}
  SshPool(Connect connect, Size size) : connect_(std::move(connect)) {
    connections_.push_back(connect_(nullptr));
    // A few handshakes at a time: many at once starve the first connection's requests of
    // CPU (each is a key exchange at both ends), and sshd drops connections beyond its
    // MaxStartups (10 unauthenticated by default).
    warm_up_ = std::thread([this, size = std::move(size), first = connections_.front()] {
      size_t wanted = 1;
      try {
        wanted = std::max<size_t>(1, size(*first, &closing_));
      } catch (...) {
        // The link failed while it was timed: one connection, whose calls report it.
      }
      {
        std::lock_guard lock(mutex_);
        max_connections_ = wanted;
        opening_ = wanted - 1;
        sized_ = true;
      }
      changed_.notify_all();
      if (wanted <= 1) return;
      size_t left = wanted - 1;  // taken under mutex_
      auto take = [this, &left] {
        std::lock_guard lock(mutex_);
        if (left == 0 || closing_) return false;
        --left;
        return true;
      };
      std::vector<std::thread> openers;
      for (size_t i = 0; i < std::min(handshakes_at_once, wanted - 1); ++i)
        openers.emplace_back([this, take] {
          while (take()) {
            std::shared_ptr<Connection> fresh;
            try {
              fresh = connect_(&closing_);
            } catch (...) {
              // The pool opens one later when a call needs it, and reports what fails then.
            }
            std::lock_guard lock(mutex_);
            --opening_;
            if (fresh) connections_.push_back(std::move(fresh));
            changed_.notify_all();
          }
        });
      for (std::thread& opener : openers) opener.join();
    });
  }
  ~SshPool() {
    closing_ = true;
    if (warm_up_.joinable()) warm_up_.join();
    // Each ssh takes a round trip to end its session: all end at once, not one after another.
    std::vector<std::jthread> closing;
    try {
      for (auto& connection : connections_)
        closing.emplace_back([gone = std::move(connection)]() mutable { gone.reset(); });
    } catch (const std::system_error&) {
      // No thread to spare: the rest close one by one with the pool.
    }
  }
  SshPool(const SshPool&) = delete;
  SshPool& operator=(const SshPool&) = delete;

  size_t max_connections() const {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return sized_; });
    return max_connections_;
  }

  // A connection no call uses, lent until the lease goes: a call that can spread its work
  // (a large upload in stripes) takes what is idle, never waiting and never opening one.
  class IdleLease {
   public:
    IdleLease(SshPool& pool, std::shared_ptr<Connection> connection) : pool_(&pool), connection_(std::move(connection)) {}
    IdleLease(IdleLease&& other) noexcept : pool_(other.pool_), connection_(std::move(other.connection_)) {}
    IdleLease& operator=(IdleLease&&) = delete;
    ~IdleLease() {
      if (!connection_) return;
      connection_->users--;
      std::lock_guard lock(pool_->mutex_);
      pool_->changed_.notify_all();
    }
    Connection& connection() const { return *connection_; }

   private:
    SshPool* pool_;
    std::shared_ptr<Connection> connection_;
  };

  // Up to `most` idle live connections, leased.
  std::vector<IdleLease> lease_idle(size_t most) {
    std::vector<IdleLease> leases;
    std::lock_guard lock(mutex_);
    for (const auto& connection : connections_) {
      if (leases.size() >= most) break;
      if (connection->users == 0 && !connection->failed()) {
        connection->users++;
        leases.emplace_back(*this, connection);
      }
    }
    return leases;
  }

  // Runs `call(std::shared_ptr<Connection>)` on a leased connection, again on a fresh one
  // when the connection was lost or the server could not be reached, after a pause that
  // doubles each time (1, 2, 4, 8 s): a dropped link is often back in seconds. Other
  // failures (a refused host key, a full disk on the server, a link silent for the stall
  // limit) are final; once the server is known to be out of reach, later calls (a lock's
  // removal on the way out) fail at once with the same error instead of waiting again.
  // `preferred` (called under the pool's lock) names connections that would serve the call
  // better (one holding the file open already): one of them is taken when it is no busier
  // than the least used connection by more than one call.
  template <class Call>
  auto with_connection(Call&& call, const std::function<bool(const Connection&)>& preferred = {}) {
    for (int attempt = 1;; ++attempt) {
      {
        std::lock_guard lock(mutex_);
        if (out_of_reach_) std::rethrow_exception(out_of_reach_);
      }
      std::exception_ptr failure;
      bool final = false;
      try {
        Lease lease(*this, preferred);
        return call(lease.connection());
      } catch (const SshConnectionLost&) {
        failure = std::current_exception();
      } catch (const SshConnectionStalled&) {
        failure = std::current_exception();
        final = true;
      } catch (const Error& e) {
        if (e.code() != ExitCode::no_repository) throw;
        failure = std::current_exception();
      }
      if (final || attempt == ssh_call_attempts) {
        try {
          rethrow_as_ordinary_failure(failure);
        } catch (...) {
          std::lock_guard lock(mutex_);
          if (!out_of_reach_) out_of_reach_ = std::current_exception();
          throw;
        }
      }
      for (int tenth = 0; tenth < 10 << (attempt - 1); ++tenth) {
        throw_if_interrupted();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

 private:
  // A connection in use by one call, given back (and the waiters woken) on every path.
  class Lease {
   public:
    Lease(SshPool& pool, const std::function<bool(const Connection&)>& preferred)
        : pool_(pool), connection_(pool.acquire(preferred)) {}
    ~Lease() {
      connection_->users--;
      std::lock_guard lock(pool_.mutex_);
      pool_.changed_.notify_all();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    const std::shared_ptr<Connection>& connection() const { return connection_; }

   private:
    SshPool& pool_;
    std::shared_ptr<Connection> connection_;
  };

  // The least used live connection; a new one while every open one is in use and there is
  // room for more.
  std::shared_ptr<Connection> acquire(const std::function<bool(const Connection&)>& preferred) {
    std::unique_lock lock(mutex_);
    for (;;) {
      std::erase_if(connections_, [](const auto& connection) { return connection->failed(); });
      std::shared_ptr<Connection> best;
      for (const auto& connection : connections_)
        if (!best || connection->users < best->users) best = connection;
      if (best && preferred) {
        for (const auto& connection : connections_)
          if (connection->users <= best->users + 1 && preferred(*connection) && !connection->failed()) {
            connection->users++;
            return connection;
          }
      }
      bool room = sized_ && connections_.size() + opening_ < max_connections_;
      if (best && (best->users == 0 || !room)) {
        best->users++;
        return best;
      }
      if (room) {
        ++opening_;
        lock.unlock();
        std::shared_ptr<Connection> fresh;
        std::exception_ptr failure;
        try {
          fresh = connect_(nullptr);
        } catch (...) {
          failure = std::current_exception();
        }
        lock.lock();
        --opening_;
        changed_.notify_all();
        if (fresh) {
          fresh->users++;
          connections_.push_back(fresh);
          return fresh;
        }
        if (connections_.empty()) std::rethrow_exception(failure);
        continue;  // another connection is still up: share it
      }
      changed_.wait_for(lock, std::chrono::milliseconds(100));
      throw_if_interrupted();
    }
  }

  Connect connect_;
  size_t max_connections_ = 1;
  bool sized_ = false;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::shared_ptr<Connection>> connections_;
  size_t opening_ = 0;
  std::exception_ptr out_of_reach_;  // the failure that ended the retries
  std::thread warm_up_;
  std::atomic<bool> closing_{false};
};

}  // namespace obkeep::storage
