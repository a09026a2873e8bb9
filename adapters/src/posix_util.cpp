#include "posix_util.hpp"

#include <csignal>
#include <cstring>
#include <system_error>

#include <unistd.h>

#include <trimtab/core/ascii.hpp>

namespace trimtab::detail {
namespace {

struct NamedSignal {
  std::string_view name;
  int number;
};

constexpr NamedSignal known_signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},   {"SYS", SIGSYS},
};

[[nodiscard]] bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii::upper(a[i]) != b[i]) return false;
  return true;
}

} // namespace

std::string errno_text(int error) { return std::generic_category().message(error); }

std::optional<int> reload_signal(std::string_view name) {
  if (name.size() > 3 && same_ignoring_case(name.substr(0, 3), "SIG")) name.remove_prefix(3);
  for (const auto allowed : reload_signal_names)
    if (same_ignoring_case(name, allowed))
      for (const auto& known : known_signals)
        if (known.name == allowed) return known.number;
  return std::nullopt;
}

std::string signal_name(int signal) {
  for (const auto& known : known_signals)
    if (known.number == signal) return "SIG" + std::string(known.name);
  return "signal " + std::to_string(signal);
}

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

} // namespace trimtab::detail
