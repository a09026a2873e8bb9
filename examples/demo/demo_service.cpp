#include "demo_service.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>
#include <cmath>
#include <list>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace trimtab::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The latency histogram's upper bounds, in seconds (+Inf is implied).
constexpr std::array<double, 19> latency_bounds{0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01,
                                                0.015,  0.02,  0.03,  0.05,  0.075, 0.1,    0.15,
                                                0.25,   0.5,   1.0,   2.5,   5.0};

enum class Outcome : std::size_t { hit, miss, timeout, rejected, count };
constexpr std::array<std::string_view, 4> outcome_names{"hit", "miss", "timeout", "rejected"};

// The item for `key`, as the backend computes it: item_bytes of a deterministic stream (splitmix64).
std::string compute_item(std::uint64_t key, std::size_t bytes) {
  std::string item(bytes, '\0');
  std::uint64_t state = key * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < bytes; i += 8) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (std::size_t b = 0; b < 8 && i + b < bytes; ++b)
      item[i + b] = static_cast<char>('a' + ((z >> (8 * b)) & 0xFF) % 26);
  }
  return item;
}

// One cache miss on its way through the batching queue and the worker pool. Created and answered
// on the service's I/O thread; a worker only fills in `item` and `status`, then posts back.
struct Miss {
  std::uint64_t key;
  Clock::time_point enqueued;
  asio::steady_timer wake; // cancelled when the answer is in
  std::string item{};
  unsigned status = 0;
};
using Batch = std::vector<std::shared_ptr<Miss>>;

// An LRU cache of items; used on the I/O thread only.
class ItemCache {
public:
  const std::string* find(std::uint64_t key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }
  void insert(std::uint64_t key, std::string item, std::size_t capacity_bytes) {
    if (index_.contains(key) || item.size() > capacity_bytes) return;
    bytes_ += item.size();
    entries_.emplace_front(key, std::move(item));
    index_.emplace(key, entries_.begin());
    shrink_to(capacity_bytes);
  }
  void shrink_to(std::size_t capacity_bytes) {
    while (bytes_ > capacity_bytes && !entries_.empty()) {
      bytes_ -= entries_.back().second.size();
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
  }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }

private:
  std::list<std::pair<std::uint64_t, std::string>> entries_;
  std::unordered_map<std::uint64_t, std::list<std::pair<std::uint64_t, std::string>>::iterator> index_;
  std::size_t bytes_ = 0;
};

[[nodiscard]] std::optional<std::int64_t> int_value(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value); d != nullptr && std::isfinite(*d) && *d == std::floor(*d))
    return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

[[nodiscard]] std::optional<double> number_value(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value); d != nullptr && std::isfinite(*d)) return *d;
  return std::nullopt;
}

} // namespace

struct DemoService::State {
  explicit State(ServiceOptions o) : options(std::move(o)), knobs(options.knobs), batch_timer(io) {}

  ServiceOptions options;

  mutable std::mutex knobs_mutex;
  Knobs knobs;
  Knobs read_knobs() const {
    std::lock_guard lock(knobs_mutex);
    return knobs;
  }

  // --- metrics, written by any thread ---
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Outcome::count)> requests{};
  std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> latency_buckets{};
  std::atomic<std::uint64_t> latency_count{0};
  std::atomic<std::uint64_t> latency_sum_us{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> batch_items{0};
  std::atomic<std::uint64_t> backend_busy_us{0};
  std::atomic<std::int64_t> queued{0}; // misses waiting for a worker or in a backend call
  std::atomic<std::int64_t> backend_in_flight{0};
  std::atomic<std::uint64_t> cache_bytes{0};
  std::atomic<std::uint64_t> cache_entries{0};

  void record(Outcome outcome, Clock::duration latency) {
    const double seconds = std::chrono::duration<double>(latency).count();
    std::size_t bucket = 0;
    while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
    latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_count.fetch_add(1, std::memory_order_relaxed);
    latency_sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
    requests[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }

  // --- the worker pool: threads are started as the pool grows and idle when it shrinks ---
  std::mutex pool_mutex;
  std::condition_variable pool_wakeup;
  std::deque<Batch> batch_queue;
  std::int64_t busy_workers = 0;
  std::int64_t pool_limit = 0;
  bool stopping = false;
  std::vector<std::thread> workers;

  void set_pool_limit(std::int64_t limit) {
    std::lock_guard lock(pool_mutex);
    pool_limit = limit;
    if (stopping) return;
    while (static_cast<std::int64_t>(workers.size()) < limit) workers.emplace_back([this] { work(); });
    pool_wakeup.notify_all();
  }

  void work() {
    std::unique_lock lock(pool_mutex);
    for (;;) {
      pool_wakeup.wait(lock, [&] { return stopping || (!batch_queue.empty() && busy_workers < pool_limit); });
      if (stopping) return;
      auto batch = std::move(batch_queue.front());
      batch_queue.pop_front();
      ++busy_workers;
      lock.unlock();
      call_backend(batch);
      lock.lock();
      --busy_workers;
      pool_wakeup.notify_one();
    }
  }

  // Runs on a worker: one backend call for the batch's live misses, then the answers go back to
  // the I/O thread. A miss past its deadline is not worth the backend's time.
  void call_backend(Batch& batch) {
    const auto now = Clock::now();
    std::size_t live = 0;
    for (auto& miss : batch) {
      if (now - miss->enqueued > options.deadline) miss->status = 503;
      else ++live;
    }
    if (live > 0) {
      const auto in_flight = backend_in_flight.fetch_add(1) + 1;
      const auto& backend = options.backend;
      const double slowdown = 1.0 + backend.contention * static_cast<double>(std::max<std::int64_t>(0, in_flight - backend.lanes));
      const auto cost = backend.call_cost + backend.item_cost * static_cast<std::int64_t>(live);
      const auto started = Clock::now();
      for (auto& miss : batch)
        if (miss->status == 0) {
          miss->item = compute_item(miss->key, options.item_bytes);
          miss->status = 200;
        }
      std::this_thread::sleep_until(started + std::chrono::duration_cast<Clock::duration>(cost * slowdown));
      backend_in_flight.fetch_sub(1);
      backend_busy_us.fetch_add(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()));
      batches.fetch_add(1, std::memory_order_relaxed);
      batch_items.fetch_add(live, std::memory_order_relaxed);
    }
    asio::post(io, [this, batch = std::move(batch)] {
      for (const auto& miss : batch) {
        queued.fetch_sub(1, std::memory_order_relaxed);
        if (miss->status == 200) cache.insert(miss->key, miss->item, cache_capacity());
        miss->wake.cancel();
      }
      publish_cache_size();
    });
  }

  // --- the I/O thread: HTTP, the cache and the batching queue ---
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::thread io_thread;
  std::atomic<unsigned short> bound_port{0};
  ItemCache cache;
  Batch pending;                 // misses waiting for their batch to fill
  asio::steady_timer batch_timer; // sends a partial batch when it has waited long enough
  bool batch_timer_armed = false;

  std::size_t cache_capacity() const {
    return static_cast<std::size_t>(read_knobs().cache_mb) * 1024 * 1024;
  }
  void publish_cache_size() {
    cache_bytes.store(cache.bytes(), std::memory_order_relaxed);
    cache_entries.store(cache.size(), std::memory_order_relaxed);
  }

  void send_batch() {
    if (pending.empty()) return;
    Batch batch;
    batch.swap(pending);
    batch_timer.cancel();
    batch_timer_armed = false;
    std::lock_guard lock(pool_mutex);
    batch_queue.push_back(std::move(batch));
    pool_wakeup.notify_one();
  }

  void enqueue(const std::shared_ptr<Miss>& miss) {
    const auto knobs_now = read_knobs();
    pending.push_back(miss);
    queued.fetch_add(1, std::memory_order_relaxed);
    if (static_cast<std::int64_t>(pending.size()) >= knobs_now.batch_size) {
      send_batch();
      return;
    }
    if (!batch_timer_armed) {
      batch_timer_armed = true;
      batch_timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(knobs_now.batch_timeout_ms * 1000)));
      batch_timer.async_wait([this](boost::system::error_code ec) {
        if (!ec) send_batch();
      });
    }
  }

  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  static Response text_response(const Request& request, http::status status, std::string body,
                                std::string_view content_type = "text/plain; charset=utf-8") {
    Response response{status, request.version()};
    response.set(http::field::content_type, content_type);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  asio::awaitable<Response> item(const Request& request, std::string_view key_text) {
    const auto started = Clock::now();
    std::uint64_t key = 0;
    const auto [end, ec] = std::from_chars(key_text.data(), key_text.data() + key_text.size(), key);
    if (ec != std::errc() || end != key_text.data() + key_text.size())
      co_return text_response(request, http::status::bad_request, "the key must be a number\n");

    if (const auto* item = cache.find(key)) {
      auto response = text_response(request, http::status::ok, *item);
      record(Outcome::hit, Clock::now() - started);
      co_return response;
    }
    if (queued.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(options.max_queue)) {
      record(Outcome::rejected, Clock::now() - started);
      co_return text_response(request, http::status::service_unavailable, "queue full\n");
    }
    auto miss = std::make_shared<Miss>(Miss{key, started, asio::steady_timer(io, Clock::time_point::max())});
    enqueue(miss);
    boost::system::error_code wait_error;
    co_await miss->wake.async_wait(asio::redirect_error(asio::use_awaitable, wait_error));
    if (miss->status != 200) {
      record(Outcome::timeout, Clock::now() - started);
      co_return text_response(request, http::status::service_unavailable, "deadline exceeded in the queue\n");
    }
    auto response = text_response(request, http::status::ok, std::move(miss->item));
    record(Outcome::miss, Clock::now() - started);
    co_return response;
  }

  Response admin_config(const Request& request, DemoService& service) {
    if (request.method() == http::verb::put || request.method() == http::verb::post) {
      boost::system::error_code ec;
      const auto json = boost::json::parse(request.body(), ec);
      if (ec || !json.is_object())
        return text_response(request, http::status::bad_request, "expected a JSON object of knobs\n");
      Settings settings;
      try {
        settings = settings_from_json(json.get_object());
      } catch (const std::invalid_argument& e) {
        return text_response(request, http::status::bad_request, std::string(e.what()) + "\n");
      }
      if (auto result = service.apply(settings); !result)
        return text_response(request, http::status::bad_request, result.message + "\n");
    } else if (request.method() != http::verb::get) {
      return text_response(request, http::status::method_not_allowed, "GET or PUT\n");
    }
    return text_response(request, http::status::ok, boost::json::serialize(settings_to_json(service.current())) + "\n",
                         "application/json");
  }

  asio::awaitable<void> session(tcp::socket socket, DemoService* service) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      stream.expires_after(std::chrono::seconds(60));
      Request request;
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, request, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      const std::string_view target = request.target();
      Response response;
      if (target.starts_with("/item/") && request.method() == http::verb::get) {
        response = co_await item(request, target.substr(6));
      } else if (target == "/metrics") {
        response = text_response(request, http::status::ok, metrics(), "text/plain; version=0.0.4; charset=utf-8");
      } else if (target == "/admin/config") {
        response = admin_config(request, *service);
      } else {
        response = text_response(request, http::status::not_found, "GET /item/<key>, /metrics or /admin/config\n");
      }
      stream.expires_after(std::chrono::seconds(10));
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> listen(DemoService* service) {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue; // out of descriptors, say: the next accept may succeed
      asio::co_spawn(io, session(std::move(socket), service), asio::detached);
    }
  }

  std::string metrics() const {
    std::string out;
    out.reserve(4096);
    out += "# HELP demo_requests_total Requests answered, by outcome.\n# TYPE demo_requests_total counter\n";
    for (std::size_t i = 0; i < outcome_names.size(); ++i)
      out += "demo_requests_total{outcome=\"" + std::string(outcome_names[i]) + "\"} " +
             std::to_string(requests[i].load(std::memory_order_relaxed)) + "\n";
    out += "# HELP demo_request_duration_seconds Time from a request's arrival to its answer.\n"
           "# TYPE demo_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    char bound[32];
    for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
      cumulative += latency_buckets[i].load(std::memory_order_relaxed);
      const auto [end, ec] = std::to_chars(bound, bound + sizeof bound, latency_bounds[i]);
      out += "demo_request_duration_seconds_bucket{le=\"" + std::string(bound, end) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += latency_buckets.back().load(std::memory_order_relaxed);
    out += "demo_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += "demo_request_duration_seconds_sum " + std::to_string(static_cast<double>(latency_sum_us.load()) / 1e6) + "\n";
    out += "demo_request_duration_seconds_count " + std::to_string(cumulative) + "\n";
    const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
      out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) + " counter\n" +
             std::string(name) + " " + std::to_string(value) + "\n";
    };
    const auto gauge = [&](std::string_view name, std::string_view help, double value) {
      out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) + " gauge\n" +
             std::string(name) + " " + std::to_string(value) + "\n";
    };
    counter("demo_backend_calls_total", "Calls to the backend.", batches.load());
    counter("demo_backend_items_total", "Items fetched from the backend.", batch_items.load());
    out += "# HELP demo_backend_busy_seconds_total Time spent in backend calls, summed over workers.\n"
           "# TYPE demo_backend_busy_seconds_total counter\n"
           "demo_backend_busy_seconds_total " + std::to_string(static_cast<double>(backend_busy_us.load()) / 1e6) + "\n";
    gauge("demo_queue_depth", "Cache misses waiting for a batch, a worker or the backend.", static_cast<double>(queued.load()));
    gauge("demo_backend_in_flight", "Backend calls under way.", static_cast<double>(backend_in_flight.load()));
    gauge("demo_cache_bytes", "Bytes held by the item cache.", static_cast<double>(cache_bytes.load()));
    gauge("demo_cache_entries", "Items held by the item cache.", static_cast<double>(cache_entries.load()));
    const auto k = read_knobs();
    out += "# HELP demo_knob The knobs in force.\n# TYPE demo_knob gauge\n";
    out += "demo_knob{name=\"pool_size\"} " + std::to_string(k.pool_size) + "\n";
    out += "demo_knob{name=\"batch_size\"} " + std::to_string(k.batch_size) + "\n";
    out += "demo_knob{name=\"batch_timeout_ms\"} " + std::to_string(k.batch_timeout_ms) + "\n";
    out += "demo_knob{name=\"cache_mb\"} " + std::to_string(k.cache_mb) + "\n";
    return out;
  }
};

DemoService::DemoService(ServiceOptions options) : state_(std::make_shared<State>(std::move(options))) {}

DemoService::~DemoService() { stop(); }

void DemoService::start() {
  auto& s = *state_;
  if (s.io_thread.joinable()) return;
  const tcp::endpoint endpoint(asio::ip::make_address(s.options.address), s.options.port);
  s.acceptor.emplace(s.io);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(asio::socket_base::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  s.set_pool_limit(s.read_knobs().pool_size);
  asio::co_spawn(s.io, s.listen(this), asio::detached);
  s.io_thread = std::thread([&s] { s.io.run(); });
}

void DemoService::stop() {
  auto& s = *state_;
  if (s.io_thread.joinable()) {
    s.io.stop();
    s.io_thread.join();
  }
  {
    std::lock_guard lock(s.pool_mutex);
    s.stopping = true;
    s.pool_wakeup.notify_all();
  }
  for (auto& worker : s.workers) worker.join();
  s.workers.clear();
  s.batch_queue.clear();
  s.pending.clear();
}

unsigned short DemoService::port() const noexcept { return state_->bound_port.load(); }

AdapterResult DemoService::apply(const Settings& settings) {
  auto& s = *state_;
  Knobs next = s.read_knobs();
  const auto fail = [](const std::string& what) { return AdapterResult{AdapterError::bad_settings, what}; };
  for (const auto& [name, value] : settings) {
    if (name == "pool_size" || name == "batch_size" || name == "cache_mb") {
      const auto number = int_value(value);
      const auto limit = name == "pool_size" ? KnobLimits::max_pool_size
                         : name == "batch_size" ? KnobLimits::max_batch_size
                                                : KnobLimits::max_cache_mb;
      if (!number || *number < 1 || *number > limit)
        return fail(name + " must be a whole number in [1, " + std::to_string(limit) + "]");
      (name == "pool_size" ? next.pool_size : name == "batch_size" ? next.batch_size : next.cache_mb) = *number;
    } else if (name == "batch_timeout_ms") {
      const auto number = number_value(value);
      if (!number || *number < 0 || *number > KnobLimits::max_batch_timeout_ms)
        return fail("batch_timeout_ms must be a number in [0, 1000]");
      next.batch_timeout_ms = *number;
    } else {
      return fail("no knob named '" + name + "' (pool_size, batch_size, batch_timeout_ms, cache_mb)");
    }
  }
  {
    std::lock_guard lock(s.knobs_mutex);
    s.knobs = next;
  }
  s.set_pool_limit(next.pool_size);
  // The cache shrinks on the I/O thread, which owns it.
  // A raw pointer: a handler left queued at stop() is destroyed with the io_context, inside State.
  asio::post(s.io, [state = state_.get()] {
    state->cache.shrink_to(state->cache_capacity());
    state->publish_cache_size();
  });
  return {};
}

Settings DemoService::current() const {
  const auto k = knobs();
  return {{"pool_size", k.pool_size}, {"batch_size", k.batch_size}, {"batch_timeout_ms", k.batch_timeout_ms}, {"cache_mb", k.cache_mb}};
}

Knobs DemoService::knobs() const { return state_->read_knobs(); }

std::string DemoService::metrics_text() const { return state_->metrics(); }

} // namespace trimtab::demo
