#include <trimtab/demo/demo_run.hpp>

#include <trimtab/agent/summary_table.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/adapters/callback_adapter.hpp>
#include <trimtab/agent/agent.hpp>
#include <trimtab/agent/study_report_html.hpp>

#include "demo_config.hpp"
#include "demo_service.hpp"
#include "load_generator.hpp"

namespace trimtab::demo {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::string_view knob_names[] = {"pool_size", "batch_size", "batch_timeout_ms", "cache_mb"};

[[nodiscard]] std::string format_number(double value) {
  std::ostringstream out;
  if (std::fabs(value) >= 100 || value == std::floor(value)) out << std::fixed << std::setprecision(0) << value;
  else if (std::fabs(value) >= 10) out << std::fixed << std::setprecision(1) << value;
  else out << std::fixed << std::setprecision(2) << value;
  return out.str();
}

[[nodiscard]] std::string format_value(const boost::json::value* value) {
  if (value == nullptr) return "-";
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_number()) return format_number(value->to_number<double>());
  return boost::json::serialize(*value);
}

[[nodiscard]] std::filesystem::path fresh_state_dir() {
  auto pattern = (std::filesystem::temp_directory_path() / "trimtab-demo-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a state directory under " + std::filesystem::temp_directory_path().string());
  return pattern;
}

// The config as the demo runs it: the service's port in the url, the overrides applied, and the
// checks that it can drive the service.
TuningConfig demo_config(const DemoOptions& options, unsigned short port) {
  const std::string text = options.config_yaml.empty() ? std::string(bundled_tuning_yaml) : options.config_yaml;
  auto config = parse_tuning_config(text, options.config_name);
  if (config.target.sources.size() != 1)
    throw std::runtime_error(options.config_name + ": the demo scrapes its service alone: give target.metrics one source");
  config.target.sources[0].url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  config.target.sources[0].format = MetricsFormat::prometheus;
  if (options.solver) config.solver.kind = *options.solver;
  if (options.seed) config.solver.seed = *options.seed;
  if (options.budget) config.policy.budget = *options.budget;
  if (config.adapters.size() != 1 || config.adapters[0].kind != AdapterKind::callback)
    throw std::runtime_error(options.config_name + ": the demo drives its service through one callback adapter");
  for (const auto& param : config.adapters[0].params)
    if (std::find(std::begin(knob_names), std::end(knob_names), param) == std::end(knob_names))
      throw std::runtime_error(options.config_name + ": the demo service has no knob '" + param +
                               "' (pool_size, batch_size, batch_timeout_ms, cache_mb)");
  return config;
}

// Follows the agent's journal records as they come and turns observation + decision pairs into
// windows.
class WindowTracker {
public:
  explicit WindowTracker(Clock::time_point started) : started_(started) {}

  /// Reads the records past those seen (by seq: the agent keeps only its recent records); returns
  /// the windows they completed.
  std::vector<DemoWindow> follow(const std::deque<JournalLine>& records) {
    std::vector<DemoWindow> completed;
    for (const auto& line : records) {
      if (line.seq <= seen_) continue;
      seen_ = line.seq;
      if (std::holds_alternative<DoneRecord>(line.record)) done_ = true;
      if (const auto* observation = std::get_if<ObservationRecord>(&line.record)) observation_ = *observation;
      if (const auto* decision = std::get_if<DecisionRecord>(&line.record)) {
        completed.push_back(window_of(*decision));
        observation_.reset();
      }
    }
    return completed;
  }

  /// A `done` record has been seen: the study spent its budget.
  [[nodiscard]] bool done() const noexcept { return done_; }

private:
  bool done_ = false;
  Clock::time_point started_;
  std::uint64_t seen_ = 0;
  std::optional<ObservationRecord> observation_;

  // The window a decision ends, with its observation's numbers when it decides that observation.
  DemoWindow window_of(const DecisionRecord& decision) const {
    DemoWindow window;
    window.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    if (decision.point) window.point = settings_to_json(*decision.point);
    window.verdict = verdict_name(decision.verdict);
    window.reason = decision.reason;
    if (observation_ && decision.point && observation_->point == *decision.point) {
      if (!observation_->failed) window.value = observation_->value;
      window.purpose = purpose_name(observation_->purpose);
      for (const auto& [name, value] : observation_->signals)
        if (name == "p99_ms") window.p99_ms = value;
      window.index = static_cast<std::int64_t>(observation_->window.value_or(0));
    }
    return window;
  }
};

} // namespace

std::string describe_window(const DemoWindow& window, const std::vector<std::string>& params) {
  std::ostringstream line;
  line << std::setw(5) << std::fixed << std::setprecision(1) << window.seconds << "s  ";
  line << std::left << std::setw(10) << (window.purpose.empty() ? "-" : window.purpose) << std::right;
  for (const auto& param : params) line << ' ' << param << '=' << format_value(window.point.if_contains(param));
  line << "  ->  ";
  if (window.value) line << "objective " << format_number(*window.value);
  else line << "no score";
  if (window.p99_ms) line << ", p99 " << format_number(*window.p99_ms) << " ms";
  line << "  " << window.verdict;
  if (!window.reason.empty()) line << " (" << window.reason << ")";
  return line.str();
}

DemoSummary run_demo(const DemoOptions& options) {
  const auto started = Clock::now();
  ServiceOptions service_options;
  DemoService service(service_options);
  service.start();
  auto config = demo_config(options, service.port());

  // The service starts from the config's defaults, as a service starts from the values it ships with.
  Settings defaults;
  for (const auto& param : config.space.params())
    if (param.default_value) defaults.emplace_back(param.name, *param.default_value);
  if (auto applied = service.apply(defaults); !applied)
    throw std::runtime_error(options.config_name + ": the params' defaults do not suit the demo service: " + applied.message);

  DemoSummary summary;
  summary.state_dir = options.state_dir.empty() ? fresh_state_dir() : options.state_dir;
  config.state.dir = summary.state_dir;
  summary.maximize = config.policy.direction == Direction::maximize;
  for (const auto& param : config.space.params()) summary.params.push_back(param.name);

  LoadOptions load_options;
  load_options.port = service.port();
  load_options.rate = options.rate;
  LoadGenerator load(load_options);
  load.start();

  asio::io_context io;
  AgentOptions agent_options;
  if (options.progress != nullptr && options.log_warnings)
    agent_options.log = [out = options.progress](LogLevel level, std::string_view line) {
      if (level >= LogLevel::warning) *out << "trimtab: " << line << '\n' << std::flush;
    };
  const auto adapter_entry = config.adapters[0];
  Agent agent(io.get_executor(), std::move(config), std::move(agent_options));
  agent.add_adapter(std::make_unique<CallbackAdapter>(
      io.get_executor(), adapter_entry.name, adapter_entry.params,
      [&service](const Settings& settings) { return service.apply(settings); },
      [&service, params = adapter_entry.params] {
        Settings owned;
        for (auto& [name, value] : service.current())
          if (std::find(params.begin(), params.end(), name) != params.end()) owned.emplace_back(name, value);
        return owned;
      }));

  WindowTracker tracker(started);
  asio::steady_timer ticker(io);
  asio::steady_timer deadline(io, options.duration);
  bool announced = false;
  std::string stop_reason = "time";
  std::function<void()> tick = [&] {
    if (!announced && agent.control_port() != 0 && options.progress != nullptr) {
      *options.progress << "demo service on http://127.0.0.1:" << service.port() << " under "
                        << format_number(options.rate) << " requests/s; status page http://127.0.0.1:"
                        << agent.control_port() << "/; journal in " << summary.state_dir.string() << "\n"
                        << std::flush;
      announced = true;
    }
    for (auto& window : tracker.follow(agent.records())) {
      if (options.progress != nullptr) *options.progress << describe_window(window, summary.params) << '\n' << std::flush;
      summary.history.push_back(std::move(window));
    }
    if (tracker.done()) {
      stop_reason = "budget";
      agent.stop();
      return;
    }
    ticker.expires_after(std::chrono::milliseconds(200));
    ticker.async_wait([&](boost::system::error_code ec) {
      if (!ec) tick();
    });
  };
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) agent.stop();
  });
  asio::signal_set signals(io);
  if (options.stop_on_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      stop_reason = "signal";
      agent.stop();
    });
  }
  std::exception_ptr failure;
  agent.async_run([&](std::exception_ptr error) {
    failure = error;
    ticker.cancel();
    deadline.cancel();
    signals.cancel();
  });
  tick();
  io.run();
  const auto counts = load.counts();
  load.stop();
  service.stop();
  if (failure) std::rethrow_exception(failure);

  // Windows decided between the last tick and the stop.
  for (auto& window : tracker.follow(agent.records())) {
    if (options.progress != nullptr) *options.progress << describe_window(window, summary.params) << '\n';
    summary.history.push_back(std::move(window));
  }

  const auto report = agent.study_report();
  summary.objective = (summary.maximize ? "maximize " : "minimize ") + report.objective_expression;
  if (report.baseline) summary.baseline = *report.baseline;
  summary.best = report.incumbent.value_or(summary.baseline);
  summary.baseline_value = report.baseline_value;
  summary.best_value = report.incumbent ? report.incumbent_value : report.baseline_value;
  for (const auto& window : summary.history) {
    if (!window.value) continue;
    ++summary.windows;
    if (window.purpose == "candidate") ++summary.candidates;
    if (window.purpose == "baseline" && !summary.baseline_p99_ms) summary.baseline_p99_ms = window.p99_ms;
    if (window.point == summary.best && window.p99_ms) summary.best_p99_ms = window.p99_ms;
  }
  summary.report_data = report;
  summary.promotions = report.counts.promotions;
  summary.rollbacks = report.counts.rollbacks;
  summary.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  summary.stop_reason = stop_reason;
  summary.requests = counts.sent;
  summary.failed_requests = counts.failed;

  summary.report = summary.state_dir / "report.html";
  std::ofstream html(summary.report);
  html << render_report_html(report);
  if (!html) throw std::runtime_error("cannot write " + summary.report.string());
  return summary;
}

void print_summary(const DemoSummary& summary, std::ostream& out) {
  const SummaryRow p99{"p99 ms", summary.baseline_p99_ms, summary.best_p99_ms, ""};
  print_summary_table(summary.report_data, summary.params, out, std::span<const SummaryRow>(&p99, 1));
  out << '\n'
      << "windows: " << summary.windows << " scored (" << summary.candidates << " candidates), " << summary.promotions
      << " promoted, " << summary.rollbacks << " rolled back; ended by " << summary.stop_reason << " after "
      << format_number(summary.seconds) << " s\n";
  out << "load: " << summary.requests << " requests sent, " << summary.failed_requests << " failed\n";
  out << "report: " << summary.report.string() << '\n';
}

} // namespace trimtab::demo
