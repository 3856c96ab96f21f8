// A repository on an SFTP server: the local backend's layout and save protocol over libssh.
#include "storage/sftp/sftp_backend.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "crypto/aead.hpp"
#include "storage/object_layout.hpp"
#include "storage/read_buffer.hpp"
#include "util/error.hpp"

namespace obkeep::storage {

namespace {

// OpenSSH's sftp-server refuses packets over 256 KiB; smaller writes keep each request
// well inside that, larger reads are answered short and continued.
constexpr size_t write_chunk = 64 * 1024;
constexpr size_t read_chunk = 255 * 1024;

struct FileCloser {
  void operator()(sftp_file file) const { sftp_close(file); }
};
using File = std::unique_ptr<sftp_file_struct, FileCloser>;

struct AttributesFree {
  void operator()(sftp_attributes attributes) const { sftp_attributes_free(attributes); }
};
using Attributes = std::unique_ptr<sftp_attributes_struct, AttributesFree>;

struct DirectoryCloser {
  void operator()(sftp_dir directory) const { sftp_closedir(directory); }
};
using Directory = std::unique_ptr<sftp_dir_struct, DirectoryCloser>;

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string random_suffix() {
  uint8_t random[8];
  crypto::random_bytes(random, sizeof random);
  return to_hex(ByteView(random, sizeof random));
}

// How messages name a server path: the URL form, "/~/" marking a login-relative path.
std::string describe_path(const std::string& endpoint, const std::string& path) {
  return "sftp://" + endpoint + (path.rfind('/', 0) == 0 ? path : "/~/" + path);
}

// The repository was reachable when opened: losing it later is an ordinary failure, not
// "no repository" (exit 10 tells scripts to run init).
[[noreturn]] void rethrow_as_ordinary_failure(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    if (e.code() != ExitCode::no_repository) throw;
    throw Error(e.what(), ExitCode::error);
  }
}

struct Entry {
  std::string name;
  uint64_t size;
  bool is_directory;
};

}  // namespace

// A session borrowed from the pool for the length of one backend call.
class SftpBackend::Lease {
 public:
  explicit Lease(SftpBackend& backend) : backend_(backend), session_(backend.acquire()) {
    backend_.watchdog_->watch(*session_);
  }
  ~Lease() {
    backend_.watchdog_->unwatch(*session_);
    backend_.release(std::move(session_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  SftpSession& operator*() const { return *session_; }
  SftpSession* operator->() const { return session_.get(); }

 private:
  SftpBackend& backend_;
  std::unique_ptr<SftpSession> session_;
};

SftpBackend::SftpBackend(const std::string& url) : url_(url), parsed_(parse_sftp_url(url)) {
  endpoint_ = (parsed_.user.empty() ? "" : parsed_.user + "@") + parsed_.host +
              (parsed_.port ? ":" + std::to_string(*parsed_.port) : "");
  idle_.push_back(std::make_unique<SftpSession>(parsed_, endpoint_));
  open_sessions_ = 1;
  // Five minutes without a byte moving, like the operation timeout: a slow fsync of a large
  // pack on the server must not fail. OBKEEP_SFTP_STALL_SECONDS shortens it (for tests).
  long stall_seconds = 300;
  if (const char* value = std::getenv("OBKEEP_SFTP_STALL_SECONDS"); value && std::atol(value) > 0)
    stall_seconds = std::atol(value);
  watchdog_ = std::make_unique<SftpWatchdog>(std::chrono::seconds(stall_seconds));
}

SftpBackend::~SftpBackend() = default;

std::unique_ptr<SftpSession> SftpBackend::acquire() {
  std::unique_lock lock(mutex_);
  returned_.wait(lock, [&] { return !idle_.empty() || open_sessions_ < max_sessions; });
  if (!idle_.empty()) {
    auto session = std::move(idle_.back());
    idle_.pop_back();
    return session;
  }
  ++open_sessions_;
  lock.unlock();
  try {
    return std::make_unique<SftpSession>(parsed_, endpoint_);
  } catch (...) {
    lock.lock();
    --open_sessions_;
    returned_.notify_one();
    lock.unlock();
    rethrow_as_ordinary_failure(std::current_exception());
  }
}

void SftpBackend::release(std::unique_ptr<SftpSession> session) {
  std::lock_guard lock(mutex_);
  if (session->connected()) {
    idle_.push_back(std::move(session));
  } else {
    --open_sessions_;  // a dead connection is dropped; the next caller opens a fresh one
  }
  returned_.notify_one();
}

std::string SftpBackend::describe(const std::string& path) const { return describe_path(endpoint_, path); }

std::string SftpBackend::join(const std::string& folder, const std::string& name) const {
  if (name.empty()) return folder;
  return folder == "/" ? "/" + name : folder + "/" + name;
}

std::string SftpBackend::path_of(const Handle& handle) const { return join(parsed_.path, object_path(handle)); }

namespace {

// Helpers over one borrowed session; each names the path at fault in its errors.
struct Remote {
  SftpSession& session;
  const std::string& endpoint;

  std::string describe(const std::string& path) const { return describe_path(endpoint, path); }

  [[noreturn]] void fail(const std::string& what, const std::string& path) const {
    if (session.abort_reason() == SftpSession::AbortReason::interrupted)
      throw Error("interrupted", ExitCode::interrupted);
    throw Error("cannot " + what + " " + describe(path) + ": " + session.last_error());
  }

  Attributes stat(const std::string& path) const {
    Attributes attributes(sftp_stat(session.sftp(), path.c_str()));
    if (!attributes && session.status() != SSH_FX_NO_SUCH_FILE) fail("stat", path);
    return attributes;
  }

  // Entries other than "." and ".."; empty when the folder does not exist.
  std::vector<Entry> list(const std::string& folder) const {
    Directory directory(sftp_opendir(session.sftp(), folder.c_str()));
    if (!directory) {
      if (session.status() == SSH_FX_NO_SUCH_FILE) return {};
      fail("list", folder);
    }
    std::vector<Entry> entries;
    while (Attributes attributes{sftp_readdir(session.sftp(), directory.get())}) {
      std::string name = attributes->name ? attributes->name : "";
      if (name == "." || name == "..") continue;
      entries.push_back({name, attributes->size, attributes->type == SSH_FILEXFER_TYPE_DIRECTORY});
    }
    if (!sftp_dir_eof(directory.get())) fail("list", folder);
    return entries;
  }

  // mkdir -p: each missing component, tolerating ones that exist (or appear meanwhile).
  void make_directories(const std::string& path) const {
    for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
      std::string prefix = path.substr(0, end);
      if (!prefix.empty() && prefix != "." && sftp_mkdir(session.sftp(), prefix.c_str(), 0700) != 0) {
        Attributes existing = stat(prefix);
        if (!existing || existing->type != SSH_FILEXFER_TYPE_DIRECTORY) fail("create", prefix);
      }
      if (end == std::string::npos) return;
    }
  }

  void write_file(const std::string& path, ByteView data) const {
    File file(sftp_open(session.sftp(), path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0444));
    if (!file) fail("create", path);
    for (size_t done = 0; done < data.size();) {
      ssize_t n = sftp_write(file.get(), data.data() + done, std::min(write_chunk, data.size() - done));
      if (n <= 0) fail("write", path);
      done += static_cast<size_t>(n);
    }
    // Without the extension the bytes reach the server's disk when its kernel writes them
    // back; a crash of the server in between can lose an object that save() reported.
    if (session.can_fsync() && sftp_fsync(file.get()) != 0) fail("fsync", path);
    if (sftp_close(file.release()) != 0) fail("close", path);
  }

  File open_for_reading(const std::string& path) const {
    File file(sftp_open(session.sftp(), path.c_str(), O_RDONLY, 0));
    if (!file) fail("open", path);
    return file;
  }

  // Reads exactly `length` bytes at `offset`; sftp_read asks for a whole chunk per round
  // trip, so a pack costs a few requests, not one per blob.
  void read_range(sftp_file file, const std::string& path, uint64_t offset, uint8_t* out, uint64_t length) const {
    if (sftp_seek64(file, offset) != 0) fail("seek in", path);
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = sftp_read(file, out + done, static_cast<size_t>(std::min<uint64_t>(read_chunk, length - done)));
      if (n < 0) fail("read", path);
      if (n == 0)
        throw Error("short object " + describe(path) + ": wanted " + std::to_string(offset + length) +
                    " bytes, has " + std::to_string(offset + done));
      done += static_cast<uint64_t>(n);
    }
  }
};

}  // namespace

void SftpBackend::create() {
  Lease session(*this);
  Remote remote{*session, endpoint_};
  const std::string& root = parsed_.path;
  if (remote.stat(join(root, "config"))) throw Error("a repository already exists at " + url_);
  if (Attributes existing = remote.stat(root)) {
    if (existing->type != SSH_FILEXFER_TYPE_DIRECTORY) throw Error("not a directory: " + url_);
    if (!remote.list(root).empty())
      throw Error("directory is not empty, refusing to create a repository in it: " + url_);
  }
  remote.make_directories(root);
  for (const std::string& folder : repository_folders()) {
    std::string path = join(root, folder);
    if (sftp_mkdir(session->sftp(), path.c_str(), 0700) != 0) remote.fail("create", path);
  }
}

void SftpBackend::save(const Handle& handle, ByteView data) {
  std::string target = path_of(handle);
  std::string temporary = join(parent_of(target), ".tmp-" + random_suffix());
  Lease session(*this);
  Remote remote{*session, endpoint_};
  try {
    remote.write_file(temporary, data);
    if (sftp_rename(session->sftp(), temporary.c_str(), target.c_str()) != 0) {
      // SFTP v3's rename refuses an existing target, and libssh 0.10 does not expose
      // posix-rename@openssh.com. Names are content ids (locks are unique), so an object
      // already there holds these bytes: keep it and drop ours.
      if (!remote.stat(target)) remote.fail("rename " + describe(temporary) + " to", target);
      sftp_unlink(session->sftp(), temporary.c_str());
    }
  } catch (...) {
    if (session->connected()) sftp_unlink(session->sftp(), temporary.c_str());
    throw;
  }
}

Bytes SftpBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  std::string path = path_of(handle);
  Lease session(*this);
  Remote remote{*session, endpoint_};
  File file = remote.open_for_reading(path);
  Attributes attributes(sftp_fstat(file.get()));
  if (!attributes) remote.fail("stat", path);
  uint64_t size = attributes->size;
  if (length == 0) length = offset <= size ? size - offset : 0;
  if (offset + length > size)
    throw Error("short object " + describe(path) + ": wanted " + std::to_string(offset + length) + " bytes, has " +
                std::to_string(size));
  Bytes data(length);
  remote.read_range(file.get(), path, offset, data.data(), length);
  return data;
}

// Like the local backend, reads land in a reused per-thread buffer; the session goes back
// to the pool before `use` runs, so decrypting does not hold a connection.
void SftpBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                       const std::function<void(ByteView)>& use) {
  uint8_t* buffer = thread_read_buffer(length);
  {
    std::string path = path_of(handle);
    Lease session(*this);
    Remote remote{*session, endpoint_};
    File file = remote.open_for_reading(path);
    remote.read_range(file.get(), path, offset, buffer, length);
  }
  use(ByteView(buffer, static_cast<size_t>(length)));
}

std::optional<uint64_t> SftpBackend::stat(const Handle& handle) {
  std::string path = path_of(handle);
  Lease session(*this);
  Attributes attributes = Remote{*session, endpoint_}.stat(path);
  if (!attributes) return std::nullopt;
  return attributes->size;
}

void SftpBackend::remove(const Handle& handle) {
  std::string path = path_of(handle);
  Lease session(*this);
  if (sftp_unlink(session->sftp(), path.c_str()) != 0 && session->status() != SSH_FX_NO_SUCH_FILE)
    Remote{*session, endpoint_}.fail("remove", path);
}

void SftpBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  if (type == FileType::config) {
    if (auto size = stat(Handle{type, "config"})) visit("config", *size);
    return;
  }
  std::vector<std::string> folders;
  if (type == FileType::pack) {
    for (const std::string& folder : repository_folders())
      if (folder.rfind("data/", 0) == 0) folders.push_back(folder);
  } else {
    folders.push_back(type_folder(type));
  }
  for (const std::string& folder : folders) {
    std::vector<Entry> entries;
    {
      Lease session(*this);  // not held while visiting: `visit` may call the backend
      entries = Remote{*session, endpoint_}.list(join(parsed_.path, folder));
    }
    for (const Entry& entry : entries)
      if (!entry.is_directory && valid_object_name(Handle{type, entry.name})) visit(entry.name, entry.size);
  }
}

size_t SftpBackend::remove_temporaries() {
  Lease session(*this);
  Remote remote{*session, endpoint_};
  size_t removed = 0;
  std::vector<std::string> folders = {parsed_.path};
  while (!folders.empty()) {
    std::string folder = std::move(folders.back());
    folders.pop_back();
    for (const Entry& entry : remote.list(folder)) {
      std::string path = join(folder, entry.name);
      if (entry.is_directory) {
        folders.push_back(path);
      } else if (entry.name.rfind(".tmp-", 0) == 0 && sftp_unlink(session->sftp(), path.c_str()) == 0) {
        ++removed;
      }
    }
  }
  return removed;
}

}  // namespace obkeep::storage
