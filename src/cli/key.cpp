// `obkeep key list|add|remove`: the passwords that open the repository.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "cli/common.hpp"
#include "crypto/aead.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

namespace {

// Creates `path` (it must not exist) holding 32 random bytes in base64; returns them so.
std::string write_random_password_file(const std::string& path) {
  uint8_t random[32];
  crypto::random_bytes(random, sizeof random);
  std::string password = base64_encode(ByteView(random, sizeof random));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw_system_error("cannot create password file " + path, errno);
  std::string line = password + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    throw_system_error("cannot write password file " + path, saved);
  }
  return password;
}

}  // namespace

void add_key_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("key", "manage the passwords of the repository");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "list key files");
  auto* add = command->add_subcommand("add", "add a password");
  auto* remove = command->add_subcommand("remove", "remove a key file");
  auto new_password_file = std::make_shared<std::string>();
  auto key_id = std::make_shared<std::string>();
  add->add_option("--new-password-file", *new_password_file, "file holding the new password");
  auto generate_password_file = std::make_shared<std::string>();
  add->add_option("--generate-password-file", *generate_password_file,
                  "for a program (archive_command): write a random password to this new file (mode 0600) and add "
                  "a key for it that opens in a millisecond")
      ->excludes("--new-password-file");
  remove->add_option("id", *key_id, "key id (or unique prefix)")->required();

  list->callback([&context] {
    context.action = [&context] {
      auto repository = open_repository(context.global);
      auto keys = repo::list_key_files(repository->backend());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& key : keys) {
        bool current = key.id == repository->opened_key_id();
        if (context.global.json)
          out.push_back({{"id", key.id}, {"current", current}, {"created", key.created},
                         {"hostname", key.hostname}, {"username", key.username}});
        else
          std::cout << (current ? "*" : " ") << key.id.substr(0, 8) << "  " << key.username << "@" << key.hostname
                    << "  " << key.created.substr(0, 19) << "\n";
      }
      if (context.global.json) std::cout << out.dump() << "\n";
      return 0;
    };
  });
  add->callback([&context, new_password_file, generate_password_file] {
    context.action = [&context, new_password_file, generate_password_file] {
      auto repository = open_repository(context.global);
      crypto::ScryptParams params;
      std::string password;
      if (!generate_password_file->empty()) {
        // 256 random bits cannot be guessed however cheap each guess: the derivation need
        // not be slow, and a program that opens the repository once per WAL segment
        // saves scrypt's 100 ms each time (docs/design.md, "WAL archive").
        password = write_random_password_file(*generate_password_file);
        params = crypto::ScryptParams{1 << 10, 8, 1};
      } else {
        password = new_password_file->empty() ? read_password(GlobalOptions{}, "new password: ")
                                              : read_password_file(*new_password_file);
      }
      std::string id = repo::add_key_file(repository->backend(), repository->key(), password, params);
      if (!context.global.quiet) std::cout << "added key " << id.substr(0, 8) << "\n";
      return 0;
    };
  });
  remove->callback([&context, key_id] {
    context.action = [&context, key_id] {
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, true);
      std::string found;
      for (const auto& key : repo::list_key_files(repository->backend())) {
        if (key.id.rfind(*key_id, 0) != 0) continue;
        if (!found.empty()) throw Error("key id prefix " + *key_id + " is ambiguous");
        found = key.id;
      }
      if (found.empty()) throw Error("no key " + *key_id + " in the repository");
      if (found == repository->opened_key_id())
        throw Error("refusing to remove key " + found.substr(0, 8) + ": it is the one in use (open with another password)");
      repository->backend().remove({storage::FileType::key, found});
      if (!context.global.quiet) std::cout << "removed key " << found.substr(0, 8) << "\n";
      return 0;
    };
  });
}

void add_unlock_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("unlock", "remove stale locks (or all with --remove-all)");
  auto all = std::make_shared<bool>(false);
  command->add_flag("--remove-all", *all, "remove every lock, also live ones");
  command->callback([&context, all] {
    context.action = [&context, all] {
      auto repository = open_repository(context.global);
      for (const auto& lock : repo::list_locks(*repository))
        if (!context.global.quiet)
          std::cerr << "lock " << lock.id.short_hex() << " pid " << lock.pid << " on " << lock.hostname
                    << (lock.exclusive ? " (exclusive)" : "") << (lock.stale ? " stale: " + lock.stale_reason : "")
                    << "\n";
      int removed = repo::remove_locks(*repository, *all);
      if (!context.global.quiet) std::cout << "removed " << removed << " locks\n";
      return 0;
    };
  });
}

}  // namespace obkeep::cli
