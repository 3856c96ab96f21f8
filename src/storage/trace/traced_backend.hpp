// A Backend wrapper that writes one line per store call (when it started, how long it took,
// which object, how many bytes, how it ended) to a file: OBKEEP_TRACE_BACKEND=PATH. For an
// operator asking why a DR site is slow, and for us: the round trips a command makes one
// after another are what a far site makes it pay for.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "storage/forwarding_backend.hpp"

namespace obkeep::storage {

// The trace's lines, one per call, fields separated by single spaces (docs/testing.md):
//   START_MS DURATION_MS THREAD OPERATION TYPE NAME OFFSET LENGTH BYTES RESULT
// START_MS counts from the backend's opening. TYPE is the object type (storage::to_string,
// spaces as underscores: copy_record). NAME is the object's name cut to 12
// characters ("-" for list and create). BYTES is what moved (saved, read, or listed
// entries). RESULT is "ok", "absent" (a stat of a missing object) or "error:" and the
// message's first words.
class TracedBackend : public ForwardingBackend {
 public:
  // Appends to `trace`, which it owns and closes; several processes may append to one file.
  TracedBackend(std::unique_ptr<Backend> inner, std::FILE* trace);
  ~TracedBackend() override;

  void create() override;
  void save(const Handle& handle, ByteView data) override;
  void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<Bytes> load_if_present(const Handle& handle) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;

 private:
  struct Call;
  template <typename Work>
  auto traced(Call call, Work&& work);

  std::FILE* trace_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
};

// Wraps `backend` when OBKEEP_TRACE_BACKEND names a file (Error naming it when it cannot be
// opened for appending); otherwise returns it unchanged.
std::unique_ptr<Backend> with_trace(std::unique_ptr<Backend> backend);

}  // namespace obkeep::storage
