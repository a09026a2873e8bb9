#include "systemd_notify.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace trimtab::cli {

SystemdNotifier::SystemdNotifier(std::string socket_name, std::optional<std::chrono::microseconds> watchdog)
    : socket_name_(std::move(socket_name)), watchdog_(watchdog) {}

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  std::optional<std::chrono::microseconds> watchdog;
  // WATCHDOG_PID, when set, names the process systemd watches: a child that inherited the
  // environment must not feed the watchdog in its parent's place.
  const char* watchdog_usec = std::getenv("WATCHDOG_USEC");
  const char* watchdog_pid = std::getenv("WATCHDOG_PID");
  if (watchdog_usec != nullptr && (watchdog_pid == nullptr || std::atol(watchdog_pid) == ::getpid())) {
    char* end = nullptr;
    const auto usec = std::strtoull(watchdog_usec, &end, 10);
    if (end != watchdog_usec && *end == '\0' && usec > 0) watchdog = std::chrono::microseconds(usec);
  }
  return SystemdNotifier(socket == nullptr ? std::string() : std::string(socket), watchdog);
}

std::string SystemdNotifier::notify(std::string_view state) const {
  if (socket_name_.empty()) return {};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_name_.size() >= sizeof address.sun_path) return "NOTIFY_SOCKET is longer than a socket path may be";
  if (socket_name_[0] != '/' && socket_name_[0] != '@') return "NOTIFY_SOCKET '" + socket_name_ + "' is neither a path nor an abstract name";
  std::memcpy(address.sun_path, socket_name_.data(), socket_name_.size());
  // An abstract socket's name starts with a NUL byte where the environment variable shows '@',
  // and its length is exact: no terminating NUL.
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name_.size() +
                                             (socket_name_[0] == '/' ? 1 : 0));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("cannot open a socket for NOTIFY_SOCKET: ") + std::strerror(errno);
  std::string error;
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) error = "cannot notify systemd on " + socket_name_ + ": " + std::strerror(errno);
  ::close(fd);
  return error;
}

} // namespace trimtab::cli
