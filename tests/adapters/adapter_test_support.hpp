#pragma once

// What the adapters' suites share: driving an apply or a read (an adapter's, a built-in metrics
// source's) to completion on the test's own io_context, and a scratch directory.

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <trimtab/adapters/adapter.hpp>
#include <trimtab/adapters/service_metrics.hpp>

namespace trimtab::test {

/// One reading of a built-in metrics source, to completion.
inline ServiceMetricsReading read_now(const ServiceMetrics& source) {
  boost::asio::io_context io;
  ServiceMetricsReading reading;
  bool done = false;
  boost::asio::co_spawn(io, source.read(io.get_executor()), [&](std::exception_ptr e, ServiceMetricsReading r) {
    if (e) std::rethrow_exception(e);
    reading = std::move(r);
    done = true;
  });
  io.run();
  BOOST_REQUIRE(done);
  return reading;
}

/// Runs `io` until `done` is set, for at most `limit`; fails the test when it is not set by then.
inline void run_until(boost::asio::io_context& io, const bool& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart(); // after an earlier run ran out of work
  while (!done && !io.stopped() && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(50));
  BOOST_REQUIRE(done);
}

/// An apply to completion; checks that the handler ran after async_apply returned (never inline).
inline AdapterResult apply_now(boost::asio::io_context& io, Adapter& adapter, Settings settings) {
  std::optional<AdapterResult> result;
  bool done = false;
  bool returned = false;
  adapter.async_apply(std::move(settings), [&](AdapterResult r) {
    BOOST_TEST(returned, "the handler ran inline");
    result = std::move(r);
    done = true;
  });
  returned = true;
  run_until(io, done);
  return *result;
}

/// An operation to completion: `start` begins it with a handler that stores its outcome; checks that
/// the handler ran after `start` returned.
template <class Outcome, class Start>
Outcome complete_now(boost::asio::io_context& io, Start start) {
  Outcome out;
  bool done = false;
  bool returned = false;
  start([&](auto... parts) {
    BOOST_TEST(returned, "the handler ran inline");
    out = Outcome{std::move(parts)...};
    done = true;
  });
  returned = true;
  run_until(io, done);
  return out;
}

/// A read to completion; checks that the handler ran after async_current returned.
inline std::pair<AdapterResult, Settings> current_now(boost::asio::io_context& io, Adapter& adapter) {
  return complete_now<std::pair<AdapterResult, Settings>>(io, [&](auto handler) { adapter.async_current(handler); });
}

/// An in-effect check to completion; checks that the handler ran after async_in_effect returned.
inline std::pair<AdapterResult, InEffect> in_effect_now(boost::asio::io_context& io, Adapter& adapter,
                                                        Settings settings) {
  return complete_now<std::pair<AdapterResult, InEffect>>(
      io, [&](auto handler) { adapter.async_in_effect(std::move(settings), handler); });
}

/// The whole of a file ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Writes `text` as the whole of a file.
inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

/// A fresh directory, removed with what it holds.
class TempDir {
public:
  explicit TempDir(const std::string& prefix = "trimtab-test") {
    auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  /// The path of `name` inside the directory.
  [[nodiscard]] std::string operator/(const std::string& name) const { return (path / name).string(); }
  /// The names of the entries, sorted.
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path path;
};

} // namespace trimtab::test
