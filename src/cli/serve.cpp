// `obkeep serve --stdio --repo PATH [--append-only]`: a repository's storage over
// stdin/stdout, as the forced command of an SSH key (docs/serve-protocol.md).
#include <unistd.h>

#include "cli/cli.hpp"
#include "storage/serve/serve_server.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_serve_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand(
      "serve", "serve a repository's storage over stdin/stdout, for clients reaching it as ssh://[user@]host[:port]/ (an SSH forced command)");
  struct Options {
    bool stdio = false;
    std::string repository;
    bool append_only = false;
  };
  auto options = std::make_shared<Options>();
  command->add_flag("--stdio", options->stdio, "speak the protocol on stdin/stdout (the only mode)");
  // Its own option, not the global -r or OBKEEP_REPOSITORY: what is served is what the
  // forced command says, never what a client's environment says.
  command->add_option("--repo", options->repository, "the repository directory to serve")->required();
  command->add_flag("--append-only", options->append_only,
                    "refuse to remove or overwrite anything stored (except the client's own locks)");
  command->callback([&context, options] {
    context.action = [options] {
      if (!options->stdio) throw Error("serve needs --stdio (it speaks only over stdin/stdout)", ExitCode::usage);
      storage::serve::ServeOptions serve;
      serve.repository = options->repository;
      serve.append_only = options->append_only;
      return storage::serve::serve_session(serve, STDIN_FILENO, STDOUT_FILENO);
    };
  });
}

}  // namespace obkeep::cli
