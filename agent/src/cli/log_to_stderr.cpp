#include "log_to_stderr.hpp"

#include <chrono>
#include <ctime>
#include <iostream>

namespace trimtab::cli {

LogSink log_to_stderr(LogLevel minimum) {
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

} // namespace trimtab::cli
