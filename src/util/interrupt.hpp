// SIGINT/SIGTERM handling: long operations poll interrupted() and stop cleanly (exit 130).
// A watchdog makes sure they do: if the process has not ended a grace period after the
// first signal (a call blocked on a dead link, a wait nobody ends), or at a second signal,
// it runs the registered emergency cleanups (our lock, our temporaries) and exits 130.
#pragma once

#include <functional>

namespace obkeep {

void install_interrupt_handlers();
// A signal has arrived, and this thread is not in a CleanupAfterSignal.
bool interrupted();
// A signal has arrived, inside a CleanupAfterSignal too: a cleanup keeps its attempts short.
bool signal_received();
// Throws Error(…, ExitCode::interrupted) when a signal has arrived.
void throw_if_interrupted();

// Seconds between the first signal and the watchdog's forced exit.
constexpr int interrupt_grace_seconds = 7;

// The exit code of the watchdog's forced exit (130 unless set): the daemon asked to stop
// by SIGTERM ends with 0 even when a job had to be abandoned, as systemd expects.
void set_forced_exit_code(int code);

// While alive, `cleanup` is run by the watchdog if it has to end the process before the
// stack unwinds. It must be quick and must not throw; it runs at most once, on another
// thread, bounded in time. Destruction unregisters it (waiting if it is running).
class EmergencyCleanup {
 public:
  explicit EmergencyCleanup(std::function<void()> cleanup);
  ~EmergencyCleanup();
  EmergencyCleanup(const EmergencyCleanup&) = delete;
  EmergencyCleanup& operator=(const EmergencyCleanup&) = delete;

 private:
  unsigned long id_;
};

// While alive, interrupted() is false on this thread: the cleanup of an interrupted
// operation (removing our lock or a temporary at a remote store) must still reach the
// store, or the signal would leave behind what it is meant to clean up. The watchdog
// bounds how long such a cleanup may take.
class CleanupAfterSignal {
 public:
  CleanupAfterSignal();
  ~CleanupAfterSignal();
  CleanupAfterSignal(const CleanupAfterSignal&) = delete;
  CleanupAfterSignal& operator=(const CleanupAfterSignal&) = delete;
};

}  // namespace obkeep
