// Records SIGINT/SIGTERM in an atomic flag for cooperative cancellation, and a watchdog
// thread that ends the process when cooperation does not come in time.
#include "util/interrupt.hpp"

#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "util/error.hpp"

namespace obkeep {

namespace {

std::atomic<bool> interrupt_flag{false};
std::atomic<int> forced_exit_code{static_cast<int>(ExitCode::interrupted)};
thread_local int cleanups_under_way = 0;  // CleanupAfterSignal nesting on this thread
sem_t signal_arrived;  // posted by the handler: sem_post is async-signal-safe

void on_signal(int) {
  interrupt_flag.store(true);
  sem_post(&signal_arrived);
}

// Never destroyed: the watchdog may run while static destructors do.
struct CleanupRegistry {
  std::mutex mutex;  // held while cleanups run, so an unregistering owner waits for them
  std::map<unsigned long, std::function<void()>> cleanups;
  unsigned long next_id = 1;
};
CleanupRegistry& registry() {
  static auto* instance = new CleanupRegistry;
  return *instance;
}

void write_stderr(const char* text) {
  size_t length = 0;
  while (text[length]) ++length;
  ssize_t ignored = ::write(STDERR_FILENO, text, length);
  (void)ignored;
}

// Runs the cleanups on a thread of their own and waits at most `limit` for them: a cleanup
// that talks to a remote store may itself hang on the link that caused all this.
void run_cleanups_bounded(std::chrono::milliseconds limit) {
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::thread([finished] {
    CleanupAfterSignal cleaning;
    std::lock_guard lock(registry().mutex);
    for (auto& [id, cleanup] : registry().cleanups) {
      try {
        cleanup();
      } catch (...) {
      }
    }
    registry().cleanups.clear();
    finished->store(true);
  }).detach();
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!finished->load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

bool wait_for_signal(const timespec* deadline) {
  for (;;) {
    int result = deadline ? sem_timedwait(&signal_arrived, deadline) : sem_wait(&signal_arrived);
    if (result == 0) return true;
    if (errno != EINTR) return false;  // ETIMEDOUT
  }
}

void watchdog() {
  wait_for_signal(nullptr);
  timespec deadline {};
  clock_gettime(CLOCK_REALTIME, &deadline);  // sem_timedwait measures against this clock
  deadline.tv_sec += interrupt_grace_seconds;
  bool second_signal = wait_for_signal(&deadline);
  run_cleanups_bounded(std::chrono::milliseconds(2000));
  write_stderr(second_signal ? "obkeep: interrupted again: stopped at once\n"
                             : "obkeep: interrupted: an operation did not stop in time, stopped at once\n");
  _exit(forced_exit_code.load());
}

}  // namespace

void install_interrupt_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    sem_init(&signal_arrived, 0, 0);
    std::thread(watchdog).detach();
  });
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void set_forced_exit_code(int code) { forced_exit_code.store(code); }

bool interrupted() { return interrupt_flag.load(std::memory_order_relaxed) && cleanups_under_way == 0; }
bool signal_received() { return interrupt_flag.load(std::memory_order_relaxed); }

CleanupAfterSignal::CleanupAfterSignal() { ++cleanups_under_way; }
CleanupAfterSignal::~CleanupAfterSignal() { --cleanups_under_way; }

void throw_if_interrupted() {
  if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
}

EmergencyCleanup::EmergencyCleanup(std::function<void()> cleanup) {
  std::lock_guard lock(registry().mutex);
  id_ = registry().next_id++;
  registry().cleanups.emplace(id_, std::move(cleanup));
}

EmergencyCleanup::~EmergencyCleanup() {
  std::lock_guard lock(registry().mutex);
  registry().cleanups.erase(id_);
}

}  // namespace obkeep
