// Fault injection for tests: rules matched per call, counted per rule.
#include "storage/fault/fault_backend.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "util/error.hpp"

namespace obkeep::storage {

namespace {

const std::pair<const char*, int> error_names[] = {
    {"ENOSPC", ENOSPC}, {"EIO", EIO},         {"EACCES", EACCES},         {"EROFS", EROFS},
    {"EDQUOT", EDQUOT}, {"ECONNRESET", ECONNRESET}, {"ETIMEDOUT", ETIMEDOUT},
};

std::optional<int> errno_of(const std::string& name) {
  for (const auto& [text, number] : error_names)
    if (name == text) return number;
  return std::nullopt;
}

std::optional<FileType> type_of(const std::string& name) {
  for (FileType type : {FileType::config, FileType::key, FileType::pack, FileType::index, FileType::snapshot,
                        FileType::lock, FileType::copy_record, FileType::journal, FileType::archive})
    if (to_string(type) == name) return type;
  return std::nullopt;
}

bool known_operation(const std::string& operation) {
  for (const char* known : {"save", "load", "stat", "remove", "list", "create", "*"})
    if (operation == known) return true;
  return false;
}

FaultRule parse_rule(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Error("OBKEEP_TEST_FAULTS: bad rule '" + text + "': " + why, ExitCode::usage);
  };
  size_t at = text.find('@'), equals = text.find('=');
  if (at == std::string::npos || equals == std::string::npos || equals < at) throw bad("want OP[:TYPE]@N[+]=EFFECT");
  FaultRule rule;
  std::string target = text.substr(0, at);
  std::string count = text.substr(at + 1, equals - at - 1);
  rule.effect = text.substr(equals + 1);
  size_t colon = target.find(':');
  rule.operation = target.substr(0, colon);
  if (!known_operation(rule.operation)) throw bad("unknown operation '" + rule.operation + "'");
  if (colon != std::string::npos) {
    rule.type = type_of(target.substr(colon + 1));
    if (!rule.type) throw bad("unknown type '" + target.substr(colon + 1) + "'");
  }
  if (!count.empty() && count.back() == '+') {
    rule.and_later = true;
    count.pop_back();
  }
  char* end = nullptr;
  rule.nth = std::strtoull(count.c_str(), &end, 10);
  if (count.empty() || *end != '\0' || rule.nth == 0) throw bad("N must be a number from 1");
  if (rule.effect != "hang" && rule.effect != "kill" && rule.effect != "kill-after" && !errno_of(rule.effect))
    throw bad("unknown effect '" + rule.effect + "'");
  return rule;
}

}  // namespace

std::vector<FaultRule> parse_fault_rules(const std::string& text) {
  std::vector<FaultRule> rules;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) rules.push_back(parse_rule(part));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return rules;
}

FaultBackend::FaultBackend(std::unique_ptr<Backend> inner, std::vector<FaultRule> rules)
    : ForwardingBackend(std::move(inner)), rules_(std::move(rules)), counts_(new std::atomic<uint64_t>[rules_.size()]) {
  for (size_t i = 0; i < rules_.size(); ++i) counts_[i] = 0;
}

bool FaultBackend::before_call(const std::string& operation, std::optional<FileType> type, const std::string& what) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& rule = rules_[i];
    if (rule.operation != "*" && rule.operation != operation) continue;
    if (rule.type && rule.type != type) continue;
    uint64_t call = ++counts_[i];
    if (call < rule.nth || (call > rule.nth && !rule.and_later)) continue;
    if (rule.effect == "kill") ::kill(::getpid(), SIGKILL);
    if (rule.effect == "kill-after") return true;
    if (rule.effect == "hang") {
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    throw Error("cannot " + operation + " " + what + ": " + std::strerror(*errno_of(rule.effect)) +
                " (injected fault)");
  }
  return false;
}

void FaultBackend::after_call(bool kill) {
  if (kill) ::kill(::getpid(), SIGKILL);
}

namespace {
std::string describe(const Backend& backend, const Handle& handle) {
  return backend.location() + " " + to_string(handle.type) + " " + handle.name;
}
}  // namespace

void FaultBackend::create() {
  bool kill = before_call("create", std::nullopt, location());
  inner_->create();
  after_call(kill);
}

void FaultBackend::save(const Handle& handle, ByteView data) {
  bool kill = before_call("save", handle.type, describe(*this, handle));
  inner_->save(handle, data);
  after_call(kill);
}

Bytes FaultBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  bool kill = before_call("load", handle.type, describe(*this, handle));
  Bytes data = inner_->load(handle, offset, length);
  after_call(kill);
  return data;
}

void FaultBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                        const std::function<void(ByteView)>& use) {
  bool kill = before_call("load", handle.type, describe(*this, handle));
  inner_->read(handle, offset, length, use);
  after_call(kill);
}

std::optional<Bytes> FaultBackend::load_if_present(const Handle& handle) {
  bool kill = before_call("load", handle.type, describe(*this, handle));
  std::optional<Bytes> data = inner_->load_if_present(handle);
  after_call(kill);
  return data;
}

void FaultBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  bool kill = before_call("load", handle.type, describe(*this, handle));
  inner_->read_into(handle, offset, out);
  after_call(kill);
}

std::optional<uint64_t> FaultBackend::stat(const Handle& handle) {
  bool kill = before_call("stat", handle.type, describe(*this, handle));
  auto size = inner_->stat(handle);
  after_call(kill);
  return size;
}

void FaultBackend::remove(const Handle& handle) {
  bool kill = before_call("remove", handle.type, describe(*this, handle));
  inner_->remove(handle);
  after_call(kill);
}

void FaultBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  bool kill = before_call("list", type, location() + " " + to_string(type) + " objects");
  inner_->list(type, visit);
  after_call(kill);
}

std::unique_ptr<Backend> with_test_faults(std::unique_ptr<Backend> backend) {
  const char* rules = std::getenv("OBKEEP_TEST_FAULTS");
  if (!rules || !*rules) return backend;
  const char* only = std::getenv("OBKEEP_TEST_FAULTS_REPO");
  if (only && *only && backend->location().find(only) == std::string::npos) return backend;
  return std::make_unique<FaultBackend>(std::move(backend), parse_fault_rules(rules));
}

}  // namespace obkeep::storage
