// Records SIGINT/SIGTERM in an atomic flag for cooperative cancellation.
#include "util/interrupt.hpp"

#include <atomic>
#include <csignal>

#include "util/error.hpp"

namespace obkeep {

namespace {
std::atomic<bool> interrupt_flag{false};
void on_signal(int) { interrupt_flag.store(true); }
}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return interrupt_flag.load(std::memory_order_relaxed); }

void throw_if_interrupted() {
  if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
}

}  // namespace obkeep
