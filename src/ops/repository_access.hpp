// How an operation reaches the primary repository and the DR sites: the URL, where the
// password comes from, and the bandwidth limits the caller imposes. The CLI fills one from
// -r/--password-file/--config; a daemon from its config.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "deploy/config.hpp"
#include "repo/repository.hpp"
#include "storage/backend.hpp"

namespace obkeep::ops {

struct RepositoryAccess {
  std::string url;
  // The primary's password (and a DR site's without a password_file of its own); may throw
  // Error. The CLI reads --password-file, OBKEEP_PASSWORD or the terminal here.
  std::function<std::string()> password;
  // KiB/s for every repository opened (0: unlimited); absent: a DR site's own limit applies.
  std::optional<uint64_t> limit_upload_kib, limit_download_kib;
};

std::string read_password_file(const std::string& path);

// The limits of a repository: the access's when given, else the DR site's (for a site), else none.
storage::TransferLimits transfer_limits(const RepositoryAccess& access, const deploy::DrSite* site = nullptr);

// `prefetch`: object types the command will read whole (the index, the snapshots), fetched
// while the repository opens (storage::with_prefetch).
std::unique_ptr<repo::Repository> open_repository(const std::string& url, const std::string& password,
                                                  const storage::TransferLimits& limits,
                                                  const std::vector<storage::FileType>& prefetch = {});

// The primary repository; Error (usage) when `access` names none.
std::unique_ptr<repo::Repository> open_primary(const RepositoryAccess& access);

// The site of that name; Error (usage) naming the site, the config file and its sites when there is none.
const deploy::DrSite& find_site(const deploy::Config& config, const std::string& name);

// Opens a site's repository with its password_file (or the primary's password when it has
// none), held to its limit_upload/limit_download unless `access` says otherwise; errors name the site.
std::unique_ptr<repo::Repository> open_site(const deploy::DrSite& site, const RepositoryAccess& access,
                                            const std::vector<storage::FileType>& prefetch = {});
// The repository a new one is made related to (init --copy-params-from), asked for only
// when one is made: it may still be opening meanwhile.
using RelatedSource = std::function<const repo::Repository&()>;

// open_site(), or, when the site holds no repository yet, one created there related to
// `source()`; `created` says which.
std::unique_ptr<repo::Repository> open_or_create_site(const deploy::DrSite& site, const RepositoryAccess& access,
                                                      const RelatedSource& source, bool* created);

}  // namespace obkeep::ops
