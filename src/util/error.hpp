// The one error idiom of obkeep: an Error exception carrying the exit code it maps to.
#pragma once

#include <stdexcept>
#include <string>

namespace obkeep {

// Exit codes are part of the command-line contract (the numbers restic uses).
enum class ExitCode : int {
  ok = 0,
  error = 1,
  usage = 2,
  partial = 3,  // backup made, some source files unreadable
  objective_at_risk = 4,
  objective_violated = 5,
  no_repository = 10,
  locked = 11,
  wrong_password = 12,
  interrupted = 130,
};

// Thrown for every expected failure (I/O, parse, authentication, bad input).
// The message is one line and names the thing at fault.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::error)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Error for a failed system call: "<what>: <strerror(errno)>".
[[noreturn]] void throw_system_error(const std::string& what, int error_number);

// Raised by the repository when stored data fails authentication or decoding.
class IntegrityError : public Error {
 public:
  using Error::Error;
};

}  // namespace obkeep
