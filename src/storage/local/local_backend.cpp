// A repository in a local directory, with atomic and durable saves.
#include "storage/local/local_backend.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "crypto/aead.hpp"
#include "storage/object_layout.hpp"
#include "storage/read_buffer.hpp"
#include "storage/transfer_pacer.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::storage {

namespace fs = std::filesystem;

namespace {

// A missing object is damage to the repository (IntegrityError: a restore skips what needs
// it and goes on); any other failure is the store's, and ends the operation.
[[noreturn]] void throw_open_error(const fs::path& path, int error_number) {
  if (error_number == ENOENT) throw IntegrityError("cannot open " + path.string() + ": " + std::strerror(error_number));
  throw_system_error("cannot open " + path.string(), error_number);
}


// Under a rate limiter, in the pieces it asks for, each paced before it is written (a
// repository on an NFS mount sends them as they are written; transfer_pacer.hpp).
void write_all(int fd, ByteView data, const fs::path& path) {
  size_t piece = static_cast<size_t>(transfer_piece_size());
  if (piece == 0) piece = data.size();
  size_t done = 0;
  while (done < data.size()) {
    size_t end = done + std::min(piece, data.size() - done);
    pace_transfer(end - done);
    while (done < end) {
      ssize_t n = ::write(fd, data.data() + done, end - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_system_error("cannot write " + path.string(), errno);
      }
      done += static_cast<size_t>(n);
    }
  }
}

}  // namespace

void fsync_directory(const fs::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_system_error("cannot open " + directory.string(), errno);
  int result = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (result != 0) throw_system_error("cannot fsync " + directory.string(), saved);
}

bool create_missing_folder(const fs::path& folder) {
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) return false;
  fsync_directory(folder.parent_path());
  return true;
}

LocalBackend::LocalBackend(fs::path root) : root_(std::move(root)) {}

std::string LocalBackend::location() const { return root_.string(); }

fs::path LocalBackend::path_of(const Handle& handle) const { return root_ / object_path(handle); }

void LocalBackend::create() {
  std::error_code error;
  if (fs::exists(root_ / "config", error))
    throw Error("a repository already exists at " + root_.string());
  if (fs::exists(root_, error) && !fs::is_directory(root_, error))
    throw Error("not a directory: " + root_.string());
  if (fs::exists(root_, error) && !fs::is_empty(root_, error))
    throw Error("directory is not empty, refusing to create a repository in it: " + root_.string());
  for (const std::string& folder : repository_folders()) {
    fs::create_directories(root_ / folder, error);
    if (error) throw Error("cannot create " + (root_ / folder).string() + ": " + error.message());
  }
  fsync_directory(root_);
}

void LocalBackend::save(const Handle& handle, ByteView data) {
  fs::path target = path_of(handle);
  fs::path directory = target.parent_path();
  uint8_t random[8];
  crypto::random_bytes(random, sizeof random);
  fs::path temporary = directory / (".tmp-" + to_hex(random));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0 && errno == ENOENT && create_missing_folder(directory))  // copies/, journal/ or archive/ of an older repository
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) throw_system_error("cannot create " + temporary.string(), errno);
  // A process stopped mid-save by its watchdog removes the temporary too.
  EmergencyCleanup remove_temporary([temporary] { ::unlink(temporary.c_str()); });
  try {
    // A page-aligned buffer (a pack) goes to the disk with O_DIRECT: no copy into the page
    // cache, which is a fifth of a first backup's CPU. The unaligned tail, and file systems
    // without O_DIRECT, take the normal path.
    constexpr size_t page = 4096;
    size_t direct = reinterpret_cast<uintptr_t>(data.data()) % page == 0 ? data.size() / page * page : 0;
    if (direct >= 1024 * 1024 && ::fcntl(fd, F_SETFL, O_DIRECT) == 0) {
      try {
        write_all(fd, data.subspan(0, direct), temporary);
      } catch (const Error&) {
        ::fcntl(fd, F_SETFL, 0);
        if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) throw;
        direct = 0;
      }
      ::fcntl(fd, F_SETFL, 0);
      data = data.subspan(direct);
    }
    write_all(fd, data, temporary);
    if (::fsync(fd) != 0) throw_system_error("cannot fsync " + temporary.string(), errno);
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);
  // Names are content ids (or unique lock ids), so a rename over an existing name
  // replaces identical bytes.
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    throw_system_error("cannot rename " + temporary.string() + " to " + target.string(), saved);
  }
  fsync_directory(directory);
}

// Reads (blobs of a restore or a check) go through the page cache into a per-thread
// buffer, reused so that a read neither allocates nor zeroes memory. Not O_DIRECT: a
// restore reads packs mostly front to back, and the kernel's readahead keeps several reads
// in flight where a direct read waits for each; measured, direct reads made a cold restore
// a fifth slower (docs/benchmarks.md).
void LocalBackend::read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) {
  std::span<uint8_t> buffer(thread_read_buffer(length), static_cast<size_t>(length));
  read_into(handle, offset, buffer);
  use(buffer);
}

void LocalBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  fs::path path = path_of(handle);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_open_error(path, errno);
  uint8_t* buffer = out.data();
  size_t length = out.size(), done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, buffer + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw_system_error("cannot read " + path.string(), saved);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done < length)
    throw Error("short object " + path.string() + ": wanted " + std::to_string(offset + length) + " bytes, has " +
                std::to_string(offset + done));
}

Bytes LocalBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  fs::path path = path_of(handle);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_open_error(path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int saved = errno;
    ::close(fd);
    throw_system_error("cannot stat " + path.string(), saved);
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (length == 0) length = offset <= size ? size - offset : 0;
  if (offset + length > size) {
    ::close(fd);
    throw Error("short object " + path.string() + ": wanted " + std::to_string(offset + length) + " bytes, has " +
                std::to_string(size));
  }
  Bytes data(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, data.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      ::close(fd);
      throw_system_error("cannot read " + path.string(), saved);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return data;
}

std::optional<uint64_t> LocalBackend::stat(const Handle& handle) {
  struct stat info;
  fs::path path = path_of(handle);
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_system_error("cannot stat " + path.string(), errno);
  }
  return static_cast<uint64_t>(info.st_size);
}

void LocalBackend::remove(const Handle& handle) {
  fs::path path = path_of(handle);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_system_error("cannot remove " + path.string(), errno);
  fsync_directory(path.parent_path());
}

void LocalBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  auto list_folder = [&](const fs::path& folder) {
    DIR* directory = ::opendir(folder.c_str());
    if (!directory) {
      if (errno == ENOENT) return;
      throw_system_error("cannot list " + folder.string(), errno);
    }
    std::vector<std::pair<std::string, uint64_t>> entries;
    while (dirent* entry = ::readdir(directory)) {
      std::string name = entry->d_name;
      if (!valid_object_name(Handle{type, name})) continue;  // skips ".", "..", temporaries
      struct stat info;
      if (::fstatat(dirfd(directory), entry->d_name, &info, 0) != 0) continue;  // removed meanwhile
      entries.emplace_back(name, static_cast<uint64_t>(info.st_size));
    }
    ::closedir(directory);
    for (auto& [name, size] : entries) visit(name, size);
  };
  if (type == FileType::config) {
    if (auto size = stat(Handle{type, "config"})) visit("config", *size);
  } else if (type == FileType::pack) {
    for (int i = 0; i < 256; ++i) {
      char name[3];
      std::snprintf(name, sizeof name, "%02x", i);
      list_folder(root_ / "data" / name);
    }
  } else {
    list_folder(root_ / type_folder(type));
  }
}

size_t LocalBackend::remove_temporaries() {
  size_t removed = 0;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(root_, error); !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    if (it->path().filename().string().rfind(".tmp-", 0) == 0 && ::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace obkeep::storage
