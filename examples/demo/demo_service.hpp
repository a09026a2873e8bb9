#pragma once

// The demo service: a real HTTP server (Boost.Beast on its own io_context thread) that answers
// GET /item/<key> through a cache, a batching queue and a worker pool calling a slow backend, with
// four knobs whose best values depend on the load. `trimtab demo` and `trimtab_demo_service` tune it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include <trimtab/adapters/adapter.hpp>

namespace trimtab::demo {

/// What the service runs with: the knobs trimtab tunes.
struct Knobs {
  std::int64_t pool_size = 4;     ///< workers that may call the backend at once
  std::int64_t batch_size = 1;    ///< cache misses sent to the backend in one call
  double batch_timeout_ms = 5.0;  ///< how long a partial batch waits for more misses
  std::int64_t cache_mb = 4;      ///< the item cache's size
};

/// The limits the service itself enforces on its knobs (a config may narrow them).
struct KnobLimits {
  static constexpr std::int64_t max_pool_size = 64;
  static constexpr std::int64_t max_batch_size = 256;
  static constexpr double max_batch_timeout_ms = 1000;
  static constexpr std::int64_t max_cache_mb = 1024;
};

/// The backend the workers call: a database-like dependency with a fixed cost per call, a cost
/// per item, and a number of lanes beyond which concurrent calls slow each other down. The calls
/// really wait (the worker sleeps) and the items are really computed (hashed).
struct BackendModel {
  std::chrono::microseconds call_cost{2500};
  std::chrono::microseconds item_cost{150};
  int lanes = 6;
  /// Each call beyond `lanes` in flight adds this share of the call's time to every call.
  double contention = 0.35;
};

struct ServiceOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0; ///< 0: any free port (see DemoService::port)
  Knobs knobs{};
  BackendModel backend{};
  /// Each item's size in the cache and on the wire.
  std::size_t item_bytes = 4096;
  /// A miss still queued this long is answered 503 (the client would have given up).
  std::chrono::milliseconds deadline{1000};
  /// Misses waiting beyond this many are refused at once with 503.
  std::size_t max_queue = 20000;
};

/// The demo service. Thread-safe: start(), stop(), apply(), knobs() and metrics_text() may be
/// called from any thread. Its HTTP side runs on one thread of its own, its workers on theirs.
///
/// Endpoints: GET /item/<key> (the item, 4 KiB), GET /metrics (Prometheus text), GET /admin/config
/// and PUT /admin/config (the knobs as JSON, for standalone tuning through the http adapter).
class DemoService {
public:
  explicit DemoService(ServiceOptions options = {});
  ~DemoService();
  DemoService(const DemoService&) = delete;
  DemoService& operator=(const DemoService&) = delete;

  /// Binds and starts serving; throws std::system_error when the address cannot be bound.
  void start();
  /// Stops serving and joins every thread; requests in flight are dropped. Idempotent.
  void stop();
  /// The port the service listens on, once started.
  [[nodiscard]] unsigned short port() const noexcept;

  /// Switches to `settings` (pool_size, batch_size, batch_timeout_ms, cache_mb; any subset), as
  /// the callback adapter's apply: a value of the wrong type or outside KnobLimits fails naming
  /// it, and then nothing changes.
  [[nodiscard]] AdapterResult apply(const Settings& settings);
  /// The knobs in force, as the callback adapter's current (all four, in Knobs' order).
  [[nodiscard]] Settings current() const;
  [[nodiscard]] Knobs knobs() const;

  /// The service's metrics, Prometheus text 0.0.4: requests by outcome, a latency histogram,
  /// batches, queue depth, busy workers, cache size and hit counts.
  [[nodiscard]] std::string metrics_text() const;

private:
  struct State;
  std::shared_ptr<State> state_;
};


} // namespace trimtab::demo
