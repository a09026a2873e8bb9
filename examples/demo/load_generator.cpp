#include "load_generator.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace trimtab::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Requests due beyond this many waiting for a connection are dropped and counted as failed, so a
// server that stopped answering cannot make the generator's memory grow without bound.
constexpr std::size_t max_backlog = 100000;

} // namespace

struct LoadGenerator::State {
  explicit State(LoadOptions o) : options(std::move(o)), rate(options.rate), random(options.seed) {
    // The Zipf distribution's cumulative weights: key k (0-based) has weight 1 / (k + 1)^s.
    cumulative.reserve(options.keys);
    double sum = 0;
    for (std::uint64_t k = 0; k < options.keys; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), options.zipf_exponent);
      cumulative.push_back(sum);
    }
  }

  LoadOptions options;
  std::atomic<double> rate;
  std::atomic<std::uint64_t> sent{0}, ok{0}, failed{0}, backlog_size{0};

  asio::io_context io;
  std::thread thread;
  std::mt19937_64 random;
  std::vector<double> cumulative;
  // Work due and the connections waiting for some; both on the generator's thread only.
  std::deque<std::uint64_t> work;
  std::vector<asio::steady_timer*> idle;

  std::uint64_t next_key() {
    std::uniform_real_distribution<double> uniform(0.0, cumulative.back());
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), uniform(random));
    // Spread the popular keys over the key space, as real ids are not ranked by popularity.
    const auto rank = static_cast<std::uint64_t>(it - cumulative.begin());
    return rank * 7919 + 13;
  }

  void hand_out(std::uint64_t key) {
    if (work.size() >= max_backlog) {
      failed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    work.push_back(key);
    if (!idle.empty()) {
      idle.back()->cancel();
      idle.pop_back();
    }
    backlog_size.store(work.size(), std::memory_order_relaxed);
  }

  asio::awaitable<void> dispatch() {
    asio::steady_timer timer(io);
    auto next = std::chrono::steady_clock::now();
    for (;;) {
      const double current_rate = std::max(rate.load(std::memory_order_relaxed), 1e-3);
      std::exponential_distribution<double> gap(current_rate);
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(gap(random)));
      // After a pause (a stopped debugger, a starved machine) start afresh rather than burst.
      const auto now = std::chrono::steady_clock::now();
      if (now - next > std::chrono::seconds(1)) next = now;
      timer.expires_at(next);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      sent.fetch_add(1, std::memory_order_relaxed);
      hand_out(next_key());
    }
  }

  asio::awaitable<void> connection() {
    const tcp::endpoint endpoint(asio::ip::make_address(options.address), options.port);
    asio::steady_timer wake(io);
    beast::flat_buffer buffer;
    std::optional<beast::tcp_stream> stream;
    for (;;) {
      while (work.empty()) {
        idle.push_back(&wake);
        wake.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        std::erase(idle, &wake);
        if (io.stopped()) co_return;
      }
      const auto key = work.front();
      work.pop_front();
      backlog_size.store(work.size(), std::memory_order_relaxed);

      boost::system::error_code ec;
      if (!stream) {
        stream.emplace(io);
        stream->expires_after(options.timeout);
        co_await stream->async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          stream.reset();
          failed.fetch_add(1, std::memory_order_relaxed);
          asio::steady_timer pause(io, std::chrono::milliseconds(100));
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          continue;
        }
      }
      http::request<http::empty_body> request{http::verb::get, "/item/" + std::to_string(key), 11};
      request.set(http::field::host, options.address);
      request.keep_alive(true);
      stream->expires_after(options.timeout);
      co_await http::async_write(*stream, request, asio::redirect_error(asio::use_awaitable, ec));
      http::response<http::string_body> response;
      if (!ec) co_await http::async_read(*stream, buffer, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        failed.fetch_add(1, std::memory_order_relaxed);
        stream.reset();
        buffer.clear();
        continue;
      }
      (response.result() == http::status::ok ? ok : failed).fetch_add(1, std::memory_order_relaxed);
      if (!response.keep_alive()) {
        stream.reset();
        buffer.clear();
      }
    }
  }
};

LoadGenerator::LoadGenerator(LoadOptions options) : state_(std::make_unique<State>(std::move(options))) {}

LoadGenerator::~LoadGenerator() { stop(); }

void LoadGenerator::start() {
  auto& s = *state_;
  if (s.thread.joinable()) return;
  asio::co_spawn(s.io, s.dispatch(), asio::detached);
  for (std::size_t i = 0; i < s.options.connections; ++i) asio::co_spawn(s.io, s.connection(), asio::detached);
  s.thread = std::thread([&s] { s.io.run(); });
}

void LoadGenerator::stop() {
  auto& s = *state_;
  if (!s.thread.joinable()) return;
  s.io.stop();
  s.thread.join();
}

void LoadGenerator::set_rate(double rate) { state_->rate.store(rate); }

LoadCounts LoadGenerator::counts() const {
  const auto& s = *state_;
  return {s.sent.load(), s.ok.load(), s.failed.load(), s.backlog_size.load()};
}

} // namespace trimtab::demo
