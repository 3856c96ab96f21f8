#include "util/whole_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "util/error.hpp"

namespace obkeep {

namespace {

// Closes the descriptor on every path out.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Bytes read_whole_file(const std::string& path, const std::string& what) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw_system_error("cannot open " + what + " " + path, errno);
  struct stat status {};
  if (::fstat(file.fd, &status) != 0) throw_system_error("cannot stat " + what + " " + path, errno);
  // Read straight into a buffer of the file's size (16 MiB for a WAL segment), growing it
  // only if the file grew meanwhile.
  Bytes data(static_cast<size_t>(std::max<off_t>(status.st_size, 0)) + 1);
  size_t length = 0;
  for (;;) {
    if (length == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(file.fd, data.data() + length, data.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system_error("cannot read " + what + " " + path, errno);
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  data.resize(length);
  return data;
}

void write_file_durably(const std::string& path, ByteView data, const std::string& what) {
  std::string temporary = path + ".obkeep-tmp";
  {
    FileDescriptor file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (file.fd < 0) throw_system_error("cannot write " + what + " " + temporary, errno);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_system_error("cannot write " + what + " " + temporary, errno);
      done += static_cast<size_t>(n);
    }
    if (::fsync(file.fd) != 0) throw_system_error("cannot fsync " + what + " " + temporary, errno);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_system_error("cannot write " + what + " " + path, errno);
  std::string folder = std::filesystem::path(path).parent_path().string();
  FileDescriptor directory{::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (directory.fd < 0 || ::fsync(directory.fd) != 0) throw_system_error("cannot fsync " + (folder.empty() ? "." : folder), errno);
}

std::vector<std::string> whole_files_in(const std::string& folder, const std::string& what) {
  std::vector<std::string> names;
  DIR* directory = ::opendir(folder.c_str());
  if (!directory) throw_system_error("cannot read " + what + " " + folder, errno);
  while (dirent* entry = ::readdir(directory)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && !name.ends_with(".obkeep-tmp")) names.push_back(name);
  }
  ::closedir(directory);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace obkeep
