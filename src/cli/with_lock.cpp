// `obkeep with-lock [--exclusive] -- COMMAND...`: run a command while holding a repository
// lock, e.g. to copy the repository's files with another tool while nothing writes to it.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/common.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_with_lock_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("with-lock", "run a command while holding a repository lock");
  struct Options {
    bool exclusive = false;
    std::vector<std::string> command;
  };
  auto options = std::make_shared<Options>();
  command->add_flag("--exclusive", options->exclusive, "take an exclusive lock (as prune does)");
  command->add_option("command", options->command, "the command to run")->required();
  command->callback([&context, options] {
    context.action = [&context, options] {
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, options->exclusive);
      pid_t child = fork();
      if (child < 0) throw_system_error("cannot fork", errno);
      if (child == 0) {
        std::vector<char*> argv;
        for (auto& part : options->command) argv.push_back(part.data());
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "obkeep: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
      }
      int status = 0;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };
  });
}

}  // namespace obkeep::cli
