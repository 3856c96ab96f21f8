// Opening the primary repository and the DR sites for an operation.
#include "ops/repository_access.hpp"

#include <fstream>

#include "storage/prefetch/prefetching_backend.hpp"
#include "storage/s3/s3_url.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

std::string read_password_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error("cannot read password file " + path);
  std::string password;
  std::getline(file, password);
  if (password.empty()) throw Error("password file " + path + " is empty");
  return password;
}

storage::TransferLimits transfer_limits(const RepositoryAccess& access, const deploy::DrSite* site) {
  auto pick = [&](const std::optional<uint64_t>& given, std::optional<uint64_t> deploy::DrSite::*key) {
    std::optional<uint64_t> kib = given;
    if (!kib && site) kib = site->*key;
    return kib.value_or(0) * 1024;
  };
  return {pick(access.limit_upload_kib, &deploy::DrSite::limit_upload_kib),
          pick(access.limit_download_kib, &deploy::DrSite::limit_download_kib)};
}

std::unique_ptr<repo::Repository> open_repository(const std::string& url, const std::string& password,
                                                  const storage::TransferLimits& limits,
                                                  const std::vector<storage::FileType>& prefetch) {
  return repo::Repository::open(storage::with_prefetch(storage::open_backend(url, limits), prefetch), password);
}

std::unique_ptr<repo::Repository> open_primary(const RepositoryAccess& access) {
  if (access.url.empty())
    throw Error("no repository given (use -r/--repo, OBKEEP_REPOSITORY or [repository] url in the config)", ExitCode::usage);
  return open_repository(access.url, access.password(), transfer_limits(access));
}

const deploy::DrSite& find_site(const deploy::Config& config, const std::string& name) {
  std::string names;
  for (const deploy::DrSite& site : config.dr_sites) {
    if (site.name == name) return site;
    names += (names.empty() ? "" : ", ") + site.name;
  }
  throw Error("no DR site named " + name + " in " + config.path + (names.empty() ? " (it has none)" : " (it has " + names + ")"),
              ExitCode::usage);
}

namespace {

// Opens (or, with `create_related_to`, opens or creates) a site's repository; errors name the site.
std::unique_ptr<repo::Repository> reach_site(const deploy::DrSite& site, const RepositoryAccess& access,
                                            const RelatedSource* create_related_to, bool* created,
                                            const std::vector<storage::FileType>& prefetch = {}) {
  try {
    std::string password = site.password_file.empty() ? access.password() : read_password_file(site.password_file);
    std::string url = site.object_lock.enabled() ? storage::with_object_lock(site.url, site.object_lock) : site.url;
    if (!create_related_to) return open_repository(url, password, transfer_limits(access, &site), prefetch);
    return repo::Repository::open_or_create(storage::open_backend(url, transfer_limits(access, &site)), password,
                                            [&] { return repo::copy_params_of((*create_related_to)()); }, created);
  } catch (const Error& e) {
    throw Error("DR site " + site.name + ": " + e.what(), e.code());
  }
}

}  // namespace

std::unique_ptr<repo::Repository> open_site(const deploy::DrSite& site, const RepositoryAccess& access,
                                            const std::vector<storage::FileType>& prefetch) {
  return reach_site(site, access, nullptr, nullptr, prefetch);
}

std::unique_ptr<repo::Repository> open_or_create_site(const deploy::DrSite& site, const RepositoryAccess& access,
                                                      const RelatedSource& source, bool* created) {
  return reach_site(site, access, &source, created);
}

}  // namespace obkeep::ops
