// trimtab embedded in a host C++ server: the canonical example of the embedding API.
//
// The "server" is a simulated worker pool on the host's io_context whose throughput and latency
// depend on two knobs, pool_size and batch. The host:
//   1. loads tuning.yaml and constructs trimtab::Agent on its own executor;
//   2. registers a trimtab::CallbackAdapter whose callbacks set and read the knobs directly;
//   3. hands the agent its metrics in process (Prometheus text built from its own counter and
//      histogram), so nothing goes over HTTP;
//   4. hears the agent's events (proposal, applied, refused, promoted, rolled back, safe mode…)
//      and vetoes candidates its own policy forbids: here, more than 24 workers;
//   5. runs the agent with async_run and a completion handler, and stops it with stop().
//
// usage: trimtab_embedded_example TUNING.yaml [--seconds N] [--state DIR]
//
// Runs for N seconds (default 30), prints the baseline and the incumbent configurations with
// their objective values, and exits 0 when the study made at least one decision.

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/adapters/callback_adapter.hpp>
#include <trimtab/agent/agent.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// The host server. Everything here runs on the io_context's one thread, and so do the agent, the
// adapter's callbacks and the metrics source: they read and write the server's state without locks.
class Server {
public:
  explicit Server(asio::any_io_executor executor) : tick_(std::move(executor)) {}

  void start() {
    last_tick_ = Clock::now();
    schedule_tick();
  }
  void stop() { tick_.cancel(); }

  // The adapter's apply callback: validates the values before using them (the host, not the
  // config, knows what its pool can take), then switches to them.
  trimtab::AdapterResult apply(const trimtab::Settings& settings) {
    const auto pool_size = int_setting(settings, "pool_size");
    const auto batch = int_setting(settings, "batch");
    if (pool_size < 1 || pool_size > 64)
      return {trimtab::AdapterError::callback_failed, "pool_size must be in [1, 64], not " + std::to_string(pool_size)};
    if (batch < 1 || batch > 64)
      return {trimtab::AdapterError::callback_failed, "batch must be in [1, 64], not " + std::to_string(batch)};
    pool_size_ = pool_size;
    batch_ = batch;
    return {};
  }

  // The adapter's current callback: what the server runs with now, by name.
  trimtab::Settings current() const { return {{"pool_size", pool_size_}, {"batch", batch_}}; }

  // The metrics source: the server's own counter and histogram as Prometheus text, the same text a
  // /metrics endpoint would serve.
  std::string metrics_text() const {
    std::string out = "# TYPE server_requests_total counter\n"
                      "server_requests_total " + std::to_string(requests_total_) + "\n"
                      "# TYPE server_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
      cumulative += bucket_counts_[i];
      out += "server_request_duration_seconds_bucket{le=\"" + std::to_string(bucket_bounds[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "server_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(requests_total_) + "\n";
    out += "server_request_duration_seconds_sum " + std::to_string(latency_sum_) + "\n";
    out += "server_request_duration_seconds_count " + std::to_string(requests_total_) + "\n";
    return out;
  }

private:
  // The histogram's upper bounds, in seconds (+Inf is implied).
  static constexpr std::array<double, 11> bucket_bounds{0.005, 0.01, 0.02, 0.03, 0.04, 0.05,
                                                        0.06,  0.08, 0.1,  0.15, 0.25};
  static constexpr auto tick_period = std::chrono::milliseconds(50);

  // A setting the adapter owns. int params arrive as std::int64_t; the adapter has already checked
  // that every one of its params is there.
  static std::int64_t int_setting(const trimtab::Settings& settings, std::string_view name) {
    for (const auto& [key, value] : settings)
      if (key == name) return std::get<std::int64_t>(value);
    throw std::invalid_argument("no value for " + std::string(name));
  }

  // The simulated workload. Each worker runs one batch at a time, paying a fixed 4 ms per batch
  // plus 1 ms per request, so bigger batches raise throughput but make requests wait longer; and
  // workers contend for the machine, so beyond about 16 every batch slows down.
  double batch_seconds() const {
    const double contention = 1.0 + (pool_size_ / 16.0) * (pool_size_ / 16.0);
    return (0.004 + 0.001 * static_cast<double>(batch_)) * contention;
  }
  double requests_per_second() const {
    return static_cast<double>(pool_size_ * batch_) / batch_seconds();
  }

  void schedule_tick() {
    tick_.expires_at(last_tick_ + tick_period);
    tick_.async_wait([this](boost::system::error_code ec) {
      if (!ec) on_tick();
    });
  }

  // Completes the requests the pool served since the last tick (±5 % noise, as a real server's
  // throughput wobbles) and records each one's latency: somewhere in its batch's run time.
  void on_tick() {
    const auto now = Clock::now();
    const double dt = std::chrono::duration<double>(now - last_tick_).count();
    last_tick_ = now;
    owed_ += requests_per_second() * dt * noise_(random_);
    const auto completed = static_cast<std::uint64_t>(owed_);
    owed_ -= static_cast<double>(completed);
    for (std::uint64_t i = 0; i < completed; ++i) record_latency(batch_seconds() * position_(random_));
    schedule_tick();
  }

  void record_latency(double seconds) {
    std::size_t bucket = 0;
    while (bucket < bucket_bounds.size() && seconds > bucket_bounds[bucket]) ++bucket;
    if (bucket < bucket_bounds.size()) ++bucket_counts_[bucket]; // beyond the last: only in +Inf
    ++requests_total_;
    latency_sum_ += seconds;
  }

  // The knobs trimtab tunes, at the values the server starts with.
  std::int64_t pool_size_ = 4;
  std::int64_t batch_ = 2;

  asio::steady_timer tick_;
  Clock::time_point last_tick_{};
  double owed_ = 0; // fractions of a request carried to the next tick
  std::mt19937 random_{42};
  std::uniform_real_distribution<double> noise_{0.95, 1.05};
  std::uniform_real_distribution<double> position_{0.5, 1.5};

  std::uint64_t requests_total_ = 0;
  double latency_sum_ = 0;
  std::array<std::uint64_t, bucket_bounds.size()> bucket_counts_{};
};

// Prints where the study started and where it stands, from the agent's journal records (the
// baseline) and its status (the incumbent). Returns the exit code: 0 when a decision was made.
int print_summary(const trimtab::Agent& agent) {
  const auto study = agent.study_report();
  const boost::json::value baseline = study.baseline ? boost::json::value(*study.baseline) : boost::json::value();
  const boost::json::value baseline_value =
      study.baseline_value ? boost::json::value(*study.baseline_value) : boost::json::value();
  const std::size_t decisions = study.counts.promotions + study.counts.keeps + study.counts.rollbacks + study.counts.discards +
                                  study.counts.extensions + study.counts.confirmations;
  const auto status = agent.status();
  auto point = [](const boost::json::value* p) { return p != nullptr ? boost::json::serialize(*p) : std::string("none"); };
  auto number = [](const boost::json::value* v) { return v != nullptr && v->is_number() ? v->to_number<double>() : 0.0; };
  std::cout << std::fixed << std::setprecision(1);
  std::cout << "baseline:  " << point(&baseline) << " objective " << number(&baseline_value) << '\n';
  std::cout << "incumbent: " << point(status.if_contains("incumbent")) << " objective "
            << number(status.if_contains("incumbent_value")) << '\n';
  std::cout << "decisions: " << decisions << '\n';
  return decisions > 0 ? 0 : 1;
}

struct Arguments {
  std::string config;
  int seconds = 30;
  std::string state_dir;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) args.seconds = std::stoi(argv[++i]);
    else if (arg == "--state" && i + 1 < argc) args.state_dir = argv[++i];
    else if (args.config.empty() && !arg.starts_with("-")) args.config = arg;
    else throw std::invalid_argument("unexpected argument '" + std::string(arg) + "'");
  }
  if (args.config.empty() || args.seconds <= 0)
    throw std::invalid_argument("usage: trimtab_embedded_example TUNING.yaml [--seconds N] [--state DIR]");
  return args;
}

} // namespace

int main(int argc, char** argv) {
  try {
    const auto args = parse_arguments(argc, argv);
    auto config = trimtab::load_tuning_config(args.config);
    if (!args.state_dir.empty()) config.state.dir = args.state_dir;

    asio::io_context io;
    Server server(io.get_executor());

    // The agent logs through the host's logger; here, plain lines on stderr.
    trimtab::AgentOptions options;
    options.log = [](trimtab::LogLevel level, std::string_view line) {
      if (level != trimtab::LogLevel::debug) std::cerr << "trimtab: " << line << '\n';
    };
    // Declared after the server, so it is destroyed first: its callbacks point into the server.
    trimtab::Agent agent(io.get_executor(), std::move(config), std::move(options));

    // One adapter per entry of the config's adapters, with the same name and params. The callbacks
    // run on the executor given here, the host's, like any other work of the server.
    agent.add_adapter(std::make_unique<trimtab::CallbackAdapter>(
        io.get_executor(), "workers", std::vector<std::string>{"pool_size", "batch"},
        [&server](const trimtab::Settings& settings) { return server.apply(settings); },
        [&server] { return server.current(); }));
    agent.set_metrics_source([&server] { return server.metrics_text(); });

    // Host events, one line each on stdout; a real host would log, count or alert. The handler
    // runs on the host's executor after the record is journaled, and must not block.
    agent.set_event_handler([](const trimtab::AgentEvent& event) {
      // The record is typed (trimtab/core/journal_records.hpp); here as the journal's JSON line.
      const auto record = trimtab::encode_line(event.record);
      const auto* point = record.if_contains("point");
      const auto* reason = record.if_contains("reason");
      std::cout << "event: " << trimtab::event_name(event.kind) << ' '
                << (point != nullptr ? boost::json::serialize(*point) : std::string("-"));
      if (reason != nullptr && reason->is_string()) std::cout << " (" << reason->get_string() << ')';
      std::cout << '\n';
    });
    // The host's own policy, which the config cannot know: its machine has 24 cores. A vetoed
    // candidate is journaled as a refusal with this reason, and the solver looks elsewhere.
    agent.set_veto([](const trimtab::Point& candidate) -> std::optional<std::string> {
      if (std::get<std::int64_t>(candidate.values.at(0)) > 24) return "host policy: at most 24 workers";
      return std::nullopt;
    });

    // Stop after --seconds, or on Ctrl-C. stop() lets an apply under way finish, then async_run
    // completes.
    asio::steady_timer deadline(io, std::chrono::seconds(args.seconds));
    deadline.async_wait([&agent](boost::system::error_code ec) {
      if (!ec) agent.stop();
    });
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&agent](boost::system::error_code ec, int) {
      if (!ec) agent.stop();
    });

    // The completion handler runs on the host's executor once the agent has stopped (or failed to
    // start: a corrupt journal, an adapter that cannot read the knobs). Cancelling the host's own
    // work then lets io.run() return.
    std::exception_ptr failure;
    agent.async_run([&](std::exception_ptr error) {
      failure = error;
      deadline.cancel();
      signals.cancel();
      server.stop();
    });
    server.start();
    io.run();

    if (failure) std::rethrow_exception(failure);
    return print_summary(agent);
  } catch (const trimtab::ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "trimtab_embedded_example: " << e.what() << '\n';
    return 1;
  }
}
