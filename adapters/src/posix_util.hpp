#pragma once

// Small POSIX helpers shared by the file and command adapters. Internal to the adapters library.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace trimtab::detail {

/// The text of an errno value: "No such file or directory".
[[nodiscard]] std::string errno_text(int error);

/// The signals a file adapter may send to make a service reload, by the name users write (no "SIG").
inline constexpr std::array<std::string_view, 11> reload_signal_names{"HUP", "USR1", "USR2", "INT", "QUIT", "TERM",
                                                                      "ALRM", "WINCH", "CONT", "TTIN", "TTOU"};

/// The number of one of reload_signal_names, given with or without "SIG", in any case; or nothing.
[[nodiscard]] std::optional<int> reload_signal(std::string_view name);

/// A signal's name as people know it, "SIGHUP" (or "signal 42" when it has none).
[[nodiscard]] std::string signal_name(int signal);

/// Owns a file descriptor and closes it.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up without closing it.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

private:
  int fd_ = -1;
};

} // namespace trimtab::detail
