// `obkeep key list|add|remove`: the passwords that open the repository.
#include <iostream>

#include "cli/common.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_key_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("key", "manage the passwords of the repository");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "list key files");
  auto* add = command->add_subcommand("add", "add a password");
  auto* remove = command->add_subcommand("remove", "remove a key file");
  auto new_password_file = std::make_shared<std::string>();
  auto key_id = std::make_shared<std::string>();
  add->add_option("--new-password-file", *new_password_file, "file holding the new password");
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
  add->callback([&context, new_password_file] {
    context.action = [&context, new_password_file] {
      auto repository = open_repository(context.global);
      std::string password = new_password_file->empty() ? read_password(GlobalOptions{}, "new password: ")
                                                        : read_password_file(*new_password_file);
      std::string id = repo::add_key_file(repository->backend(), repository->key(), password, crypto::ScryptParams{});
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
