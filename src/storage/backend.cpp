// Backend helpers and the URL → backend factory.
#include "storage/backend.hpp"

#include "storage/fault/fault_backend.hpp"
#include "storage/limit/rate_limited_backend.hpp"
#include "storage/local/local_backend.hpp"
#include "storage/serve/serve_backend.hpp"
#include "storage/sftp/sftp_backend.hpp"
#include "storage/trace/traced_backend.hpp"
#include "storage/s3/s3_backend.hpp"
#include "storage/s3/s3_url.hpp"
#include "util/error.hpp"

namespace obkeep::storage {

std::string to_string(FileType type) {
  switch (type) {
    case FileType::config: return "config";
    case FileType::key: return "key";
    case FileType::pack: return "pack";
    case FileType::index: return "index";
    case FileType::snapshot: return "snapshot";
    case FileType::lock: return "lock";
    case FileType::copy_record: return "copy record";
    case FileType::journal: return "journal entry";
    case FileType::archive: return "archive entry";
  }
  return "unknown";
}

namespace {
std::unique_ptr<Backend> open_plain_backend(const std::string& url) {
  if (is_s3_url(url)) return open_s3_backend(url);
  if (url.rfind("sftp://", 0) == 0) return std::make_unique<SftpBackend>(url);
  if (url.rfind("ssh://", 0) == 0) return std::make_unique<ServeBackend>(url);
  std::string path = url.rfind("local:", 0) == 0 ? url.substr(6) : url;
  return std::make_unique<LocalBackend>(std::filesystem::absolute(path));
}
}  // namespace

std::unique_ptr<Backend> open_backend(const std::string& url, const TransferLimits& limits) {
  if (url.empty()) throw Error("no repository given (use -r/--repo or OBKEEP_REPOSITORY)", ExitCode::usage);
  // Faults outside the limiter: a rule's Nth call is the same call with or without limits.
  // The trace inside it: it shows the calls the store itself answered, as paced.
  return with_test_faults(with_limits(with_trace(open_plain_backend(url)), limits));
}

}  // namespace obkeep::storage
