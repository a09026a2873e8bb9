#pragma once

// The demo's load: an open-loop HTTP client that sends GET /item/<key> at a steady Poisson rate
// over keep-alive connections, with keys drawn from a Zipf distribution (a few items are hot, most
// are rare), the way a cache sees real traffic.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace trimtab::demo {

struct LoadOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0;
  double rate = 2000;              ///< requests per second, on average
  std::size_t connections = 256;   ///< keep-alive connections; a request waits when all are busy
  std::uint64_t keys = 50000;      ///< distinct items
  double zipf_exponent = 0.9;      ///< the skew of the key popularity (0: uniform)
  std::uint64_t seed = 1;
  std::chrono::milliseconds timeout{2000}; ///< a request unanswered this long counts as failed
};

/// What the load saw so far.
struct LoadCounts {
  std::uint64_t sent = 0;
  std::uint64_t ok = 0;       ///< 200 answers
  std::uint64_t failed = 0;   ///< other statuses, timeouts, connection errors
  std::uint64_t backlog = 0;  ///< requests due but waiting for a free connection
};

/// Runs on a thread of its own from start() to stop(). The rate is kept whatever the server does:
/// requests that find every connection busy wait in a backlog (and their waiting counts in the
/// server's eyes as a slower arrival, as it would with real clients), so a slow configuration
/// shows as a growing queue, not as a politely lower rate.
class LoadGenerator {
public:
  explicit LoadGenerator(LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  void start();
  /// Stops sending and joins the thread. Idempotent.
  void stop();
  /// Changes the rate from now on (a traffic shift).
  void set_rate(double rate);
  [[nodiscard]] LoadCounts counts() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace trimtab::demo
