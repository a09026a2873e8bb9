#pragma once

// Runs a program as a child process, without a shell, on an Asio executor. Internal to the
// adapters library.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

namespace trimtab::detail {

struct ChildRequest {
  /// The executable, as an absolute path: it is run as it is (no PATH search, no shell).
  std::string program{};
  /// Its arguments, argv[0] first.
  std::vector<std::string> argv{};
  /// How long it may run; then it and its process group get SIGKILL.
  std::chrono::milliseconds timeout{10000};
  /// How much of its standard output is kept; the rest is read and dropped.
  std::size_t max_output = std::size_t{1} << 20;
};

struct ChildOutcome {
  /// Empty when the program ran and exited with status 0. Else the system error that kept it
  /// from starting (ENOENT, EACCES…), AdapterError::process_failed for another status or a death
  /// by signal, or errc::timed_out.
  boost::system::error_code error{};
  /// On failure, what happened, to follow the program's path: "exited with status 3: <the end of
  /// its stderr>", "was killed by SIGSEGV", "did not finish within 250ms and was killed",
  /// "cannot be started: Permission denied".
  std::string message{};
  /// The start of its standard output, up to ChildRequest::max_output bytes.
  std::string output{};
  /// Whether it wrote more than that.
  bool output_truncated = false;

  explicit operator bool() const noexcept { return !error; }
};

/// Starts request.program with posix_spawn: stdin is /dev/null, stdout and stderr are pipes, no
/// other descriptor is inherited, the signal mask and dispositions are the defaults, and the child
/// leads a new process group. Its output is read on the executor's reactor, and its exit is learnt
/// from a pidfd (or, where the kernel has none, by polling waitpid with WNOHANG): no SIGCHLD handler
/// is installed and no other child is reaped.
///
/// `handler` runs exactly once, never inline, on `executor` (which must be single-threaded: an
/// io_context run by one thread, or a strand): after the child has exited and been reaped, or when
/// it could not be started. A child still running when the operation is destroyed unfinished (its
/// io_context destroyed) is killed and reaped then.
void async_run_child(boost::asio::any_io_executor executor, ChildRequest request,
                     std::function<void(ChildOutcome)> handler);

/// A duration as the configuration writes it: "250ms", "10s".
[[nodiscard]] std::string duration_text(std::chrono::milliseconds duration);

} // namespace trimtab::detail
