#include "log_to_stderr.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace trimtab::cli {
namespace {

// sd-daemon(3)'s priorities: <7> debug, <6> info, <4> warning, <3> error.
const char* journal_prefix(LogLevel level) {
  static constexpr const char* prefixes[] = {"<7>", "<6>", "<4>", "<3>"};
  return prefixes[static_cast<int>(level)];
}

} // namespace

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return std::string(stream) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

LogSink log_to_stderr(LogLevel minimum) {
  if (stderr_is_journal())
    return [minimum](LogLevel level, std::string_view line) {
      if (level < minimum) return;
      std::cerr << journal_prefix(level) << line << '\n';
    };
  return [minimum](LogLevel level, std::string_view line) {
    if (level < minimum) return;
    static constexpr const char* names[] = {"debug", "info ", "warn ", "error"};
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::cerr << stamp << ' ' << names[static_cast<int>(level)] << ' ' << line << '\n';
  };
}

void print_error(std::string_view text) {
  const bool journal = stderr_is_journal();
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    if (journal) std::cerr << journal_prefix(LogLevel::error);
    std::cerr << line << '\n';
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

} // namespace trimtab::cli
