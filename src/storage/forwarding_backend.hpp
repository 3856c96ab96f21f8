// The base of Backend wrappers (limits, injected faults, the trace): every call passes to the
// wrapped backend, and a wrapper overrides only the calls it changes, so that a call added to
// Backend reaches the store through every wrapper.
#pragma once

#include <memory>
#include <utility>

#include "storage/backend.hpp"

namespace obkeep::storage {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  std::string location() const override { return inner_->location(); }
  void create() override { inner_->create(); }
  void save(const Handle& handle, ByteView data) override { inner_->save(handle, data); }
  void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) override {
    inner_->save_after(handle, data, ready);
  }
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override { return inner_->load(handle, offset, length); }
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override {
    inner_->read(handle, offset, length, use);
  }
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override {
    inner_->read_into(handle, offset, out);
  }
  std::optional<Bytes> load_if_present(const Handle& handle) override { return inner_->load_if_present(handle); }
  std::optional<uint64_t> stat(const Handle& handle) override { return inner_->stat(handle); }
  void remove(const Handle& handle) override { inner_->remove(handle); }
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override {
    inner_->list(type, visit);
  }
  size_t background_saves() const override { return inner_->background_saves(); }
  // The inner store's answer first: it does not wait (background_saves() may).
  bool remote() const override { return inner_->remote() || background_saves() != 0; }
  uint64_t read_gap() const override { return inner_->read_gap(); }
  size_t concurrent_reads() const override { return inner_->concurrent_reads(); }
  size_t remove_temporaries() override { return inner_->remove_temporaries(); }
  bool append_only() const override { return inner_->append_only(); }
  std::optional<int64_t> retained_until(const Handle& handle) override { return inner_->retained_until(handle); }
  std::string protection() override { return inner_->protection(); }

 protected:
  std::unique_ptr<Backend> inner_;
};

}  // namespace obkeep::storage
