// The backend call trace: each call timed around the wrapped backend's, one line appended
// at its end under a mutex, so lines of concurrent calls never interleave.
#include "storage/trace/traced_backend.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"

namespace obkeep::storage {

struct TracedBackend::Call {
  const char* operation;
  std::string type;
  std::string name;
  uint64_t offset = 0;
  uint64_t length = 0;
};

namespace {

// The result field: the error's first words, with no spaces, so a line keeps its fields.
std::string error_field(const char* what) {
  std::string field = "error:";
  for (size_t i = 0; what[i] && i < 60; ++i) field += what[i] == ' ' || what[i] == '\n' ? '_' : what[i];
  return field;
}

}  // namespace

TracedBackend::TracedBackend(std::unique_ptr<Backend> inner, std::FILE* trace)
    : ForwardingBackend(std::move(inner)), trace_(trace) {}

TracedBackend::~TracedBackend() { std::fclose(trace_); }

// Runs `work`, which returns the bytes it moved and whether the object was there, and
// writes the call's line, on the error path too (rethrowing).
template <typename Work>
auto TracedBackend::traced(Call call, Work&& work) {
  auto start = std::chrono::steady_clock::now();
  for (char& c : call.type)
    if (c == ' ') c = '_';  // "copy record": one field
  auto line = [&](uint64_t bytes, const std::string& result) {
    auto end = std::chrono::steady_clock::now();
    double start_ms = std::chrono::duration<double, std::milli>(start - opened_).count();
    double duration_ms = std::chrono::duration<double, std::milli>(end - start).count();
    std::string name = call.name.empty() ? "-" : call.name.substr(0, 12);
    std::lock_guard lock(mutex_);
    std::fprintf(trace_, "%.3f %.3f %ld %s %s %s %llu %llu %llu %s\n", start_ms, duration_ms,
                 static_cast<long>(::syscall(SYS_gettid)), call.operation, call.type.c_str(), name.c_str(),
                 static_cast<unsigned long long>(call.offset), static_cast<unsigned long long>(call.length),
                 static_cast<unsigned long long>(bytes), result.c_str());
    std::fflush(trace_);
  };
  try {
    auto outcome = work();
    line(outcome.bytes, outcome.present ? "ok" : "absent");
    return outcome;
  } catch (const std::exception& error) {
    line(0, error_field(error.what()));
    throw;
  }
}

namespace {
struct Moved {
  uint64_t bytes = 0;
  bool present = true;
};
}  // namespace

void TracedBackend::create() {
  traced({"create", "-", ""}, [&] {
    inner_->create();
    return Moved{};
  });
}

void TracedBackend::save(const Handle& handle, ByteView data) {
  traced({"save", to_string(handle.type), handle.name, 0, data.size()}, [&] {
    inner_->save(handle, data);
    return Moved{data.size()};
  });
}

void TracedBackend::save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) {
  traced({"save_after", to_string(handle.type), handle.name, 0, data.size()}, [&] {
    inner_->save_after(handle, data, ready);
    return Moved{data.size()};
  });
}

Bytes TracedBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  Bytes data;
  traced({"load", to_string(handle.type), handle.name, offset, length}, [&] {
    data = inner_->load(handle, offset, length);
    return Moved{data.size()};
  });
  return data;
}

void TracedBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                         const std::function<void(ByteView)>& use) {
  traced({"read", to_string(handle.type), handle.name, offset, length}, [&] {
    uint64_t moved = 0;
    inner_->read(handle, offset, length, [&](ByteView bytes) {
      moved += bytes.size();
      use(bytes);
    });
    return Moved{moved};
  });
}

std::optional<Bytes> TracedBackend::load_if_present(const Handle& handle) {
  std::optional<Bytes> data;
  traced({"load", to_string(handle.type), handle.name}, [&] {
    data = inner_->load_if_present(handle);
    return Moved{data ? data->size() : 0, data.has_value()};
  });
  return data;
}

void TracedBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  traced({"read", to_string(handle.type), handle.name, offset, out.size()}, [&] {
    inner_->read_into(handle, offset, out);
    return Moved{out.size()};
  });
}

std::optional<uint64_t> TracedBackend::stat(const Handle& handle) {
  std::optional<uint64_t> size;
  traced({"stat", to_string(handle.type), handle.name}, [&] {
    size = inner_->stat(handle);
    return Moved{0, size.has_value()};
  });
  return size;
}

void TracedBackend::remove(const Handle& handle) {
  traced({"remove", to_string(handle.type), handle.name}, [&] {
    inner_->remove(handle);
    return Moved{};
  });
}

void TracedBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  traced({"list", to_string(type), ""}, [&] {
    uint64_t entries = 0;
    inner_->list(type, [&](const std::string& name, uint64_t size) {
      ++entries;
      visit(name, size);
    });
    return Moved{entries};
  });
}

std::unique_ptr<Backend> with_trace(std::unique_ptr<Backend> backend) {
  const char* path = std::getenv("OBKEEP_TRACE_BACKEND");
  if (!path || !*path) return backend;
  std::FILE* trace = std::fopen(path, "a");
  if (!trace) throw Error(std::string("cannot open the backend trace ") + path + ": " + std::strerror(errno));
  return std::make_unique<TracedBackend>(std::move(backend), trace);
}

}  // namespace obkeep::storage
