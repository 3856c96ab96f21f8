// A Backend wrapper that makes chosen calls fail, hang or kill the process: the fault
// matrix's way to reach every error path at an exact point (docs/testing.md). Enabled only
// through OBKEEP_TEST_FAULTS; without it open_backend never builds one.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/forwarding_backend.hpp"

namespace obkeep::storage {

// One rule: "OP[:TYPE]@N[+]=EFFECT".
//   OP     save, load (load and read), stat, remove, list, create, or * for any
//   TYPE   config, key, pack, index, snapshot, lock (any when absent)
//   N      the Nth matching call (from 1); with +, that call and every later one
//   EFFECT an errno name (ENOSPC, EIO, EACCES, EROFS, EDQUOT, ECONNRESET, ETIMEDOUT):
//          the call fails with that error and does nothing; "hang": the call blocks
//          without heeding signals, as one on a dead link does; "kill": the process
//          SIGKILLs itself before the call, "kill-after": after it completed.
struct FaultRule {
  std::string operation;
  std::optional<FileType> type;
  uint64_t nth = 1;
  bool and_later = false;
  std::string effect;
};

// Parses a comma-separated list of rules; Error(usage) naming the bad rule.
std::vector<FaultRule> parse_fault_rules(const std::string& text);

class FaultBackend : public ForwardingBackend {
 public:
  FaultBackend(std::unique_ptr<Backend> inner, std::vector<FaultRule> rules);

  void create() override;
  void save(const Handle& handle, ByteView data) override;
  // Through save(), so that save rules count it.
  void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) override {
    Backend::save_after(handle, data, ready);
  }
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<Bytes> load_if_present(const Handle& handle) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;

 private:
  // Applies the first rule matching this call; returns true when the call is to be
  // followed by a kill (kill-after).
  bool before_call(const std::string& operation, std::optional<FileType> type, const std::string& what);
  void after_call(bool kill);

  std::vector<FaultRule> rules_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
};

// Wraps `backend` when OBKEEP_TEST_FAULTS is set and OBKEEP_TEST_FAULTS_REPO (when set) is
// part of its location; otherwise returns it unchanged.
std::unique_ptr<Backend> with_test_faults(std::unique_ptr<Backend> backend);

}  // namespace obkeep::storage
