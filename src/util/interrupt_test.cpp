#include "util/interrupt.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <thread>

namespace obkeep {
namespace {

// A signal, once received, stays: each case runs in a child process (a death test).
[[noreturn]] void signal_then_clean_up() {
  install_interrupt_handlers();
  bool before = !interrupted() && !signal_received();
  std::raise(SIGTERM);
  bool after = interrupted() && signal_received();
  bool in_cleanup = false, still_received = false, other_thread = false, nested = false;
  {
    CleanupAfterSignal cleaning;
    in_cleanup = !interrupted();
    still_received = signal_received();  // a cleanup keeps its attempts short
    std::thread([&] { other_thread = interrupted(); }).join();
    {
      CleanupAfterSignal again;
    }
    nested = !interrupted();
  }
  bool ok = before && after && in_cleanup && still_received && other_thread && nested && interrupted();
  std::_Exit(ok ? 0 : 1);
}

TEST(Interrupt, ACleanupOnItsThreadIsNotInterrupted) {
  EXPECT_EXIT(signal_then_clean_up(), testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace obkeep
