#pragma once

// systemd's readiness protocol (sd_notify(3)): one datagram per state change, sent to the
// AF_UNIX socket named in $NOTIFY_SOCKET. Written here rather than linked from libsystemd: it is a
// sendto() of a few bytes, and the agent then runs the same with or without systemd installed.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace trimtab::cli {

class SystemdNotifier {
public:
  /// Reads $NOTIFY_SOCKET (a path, or an abstract name starting with '@') and $WATCHDOG_USEC /
  /// $WATCHDOG_PID. Without NOTIFY_SOCKET (not started by systemd, or not Type=notify), every
  /// notify() is a no-op.
  [[nodiscard]] static SystemdNotifier from_environment();
  /// A notifier for `socket_name` (as $NOTIFY_SOCKET would hold it), for tests.
  explicit SystemdNotifier(std::string socket_name, std::optional<std::chrono::microseconds> watchdog = std::nullopt);

  [[nodiscard]] bool enabled() const noexcept { return !socket_name_.empty(); }
  /// Sends "READY=1", "STOPPING=1", "STATUS=…" (newline-separated assignments). Returns the
  /// error's text when the datagram could not be sent, "" when it was (or when disabled): a
  /// notification that fails must not stop the agent, but the log says why.
  std::string notify(std::string_view state) const;
  /// The service's WatchdogSec=, when systemd expects WATCHDOG=1 from this process.
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval() const noexcept { return watchdog_; }

private:
  std::string socket_name_;
  std::optional<std::chrono::microseconds> watchdog_;
};

} // namespace trimtab::cli
