// The Agent embedded in a host, as examples/embedded uses it, but driven by a test: one io_context,
// a simulated service whose metrics the agent reads in process (Agent::set_metrics_source) and whose
// knobs it sets through a CallbackAdapter, and no control server. Nothing here opens a socket.
//
// Each case runs the agent in real time until an event the case waits for (or a deadline), stops it
// and checks what the service runs and what the journal says: promote, rollback, safe mode, the
// host's veto, stop's three targets and a restart that resumes from the journal.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>

#include <trimtab/adapters/callback_adapter.hpp>
#include <trimtab/agent/agent.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/journal_records.hpp>
#include <trimtab/core/settings.hpp>

using namespace trimtab;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::int64_t int_setting(const Settings& settings, const std::string& name) {
  for (const auto& [key, value] : settings)
    if (key == name) return std::get<std::int64_t>(value);
  throw std::invalid_argument("no value for " + name);
}

// A service with two knobs. Its throughput peaks at pool_size 12 and falls off on either side; its
// latency grows with the batch. Both are gauges with 1 % noise, so one window tells configurations
// apart and the cases decide in a few seconds.
struct SimulatedService {
  std::int64_t pool_size = 4;
  std::int64_t batch = 2;
  std::size_t applies = 0;
  // What the apply callback refuses (the host's own validation), if anything.
  std::function<std::optional<std::string>(const Settings&)> refuse;
  std::mt19937 random{11};

  double throughput() const {
    const double distance = static_cast<double>(pool_size - 12);
    return 1000.0 - 5.0 * distance * distance + 2.0 * static_cast<double>(batch);
  }
  double latency_ms() const { return 10.0 + 5.0 * static_cast<double>(batch); }

  AdapterResult apply(const Settings& settings) {
    if (refuse)
      if (auto reason = refuse(settings)) return {AdapterError::callback_failed, *reason};
    pool_size = int_setting(settings, "pool_size");
    batch = int_setting(settings, "batch");
    ++applies;
    return {};
  }
  Settings current() const { return {{"pool_size", pool_size}, {"batch", batch}}; }

  std::string metrics_text() {
    std::uniform_real_distribution<double> noise(0.99, 1.01);
    return "# TYPE service_throughput gauge\nservice_throughput " + std::to_string(throughput() * noise(random)) +
           "\n# TYPE service_latency_ms gauge\nservice_latency_ms " + std::to_string(latency_ms() * noise(random)) + "\n";
  }
};

// The config every case starts from: short windows, the constraint on latency, a small Bayesian
// study. `extra_guardrails` adds lines under guardrails.
std::string config_yaml(const fs::path& state_dir, const std::string& extra_guardrails = "",
                        const std::string& constraint = "latency_ms <= 40") {
  return "target:\n"
         "  metrics: {url: http://127.0.0.1:9/unused, format: prometheus, interval: 20ms}\n"
         "signals:\n"
         "  throughput: {gauge: service_throughput}\n"
         "  latency_ms: {gauge: service_latency_ms}\n"
         "objective:\n"
         "  maximize: throughput\n"
         "constraints:\n"
         "  - " + constraint + "\n"
         "params:\n"
         "  pool_size: {type: int, min: 1, max: 24, default: 4}\n"
         "  batch:     {type: int, min: 1, max: 12, default: 2}\n"
         "solver: {kind: bayes, budget: 12, seed: 5}\n"
         "window: {settle: 40ms, duration: 300ms, min_samples: 5, remeasure_every: 0}\n"
         "guardrails:\n"
         "  max_delta: {pool_size: 8, batch: 6}\n"
         "  max_updates_per_second: 50\n"
         "  min_dwell: 0s\n"
         "  required_improvement: 1%\n" +
         extra_guardrails +
         "adapters:\n"
         "  - {name: service, kind: callback, params: [pool_size, batch]}\n"
         "state: {dir: " + state_dir.string() + "}\n";
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("trimtab-agent-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  static inline int counter = 0;
};

// One run of an agent over the service: it stops when `until` holds after an event (or at the
// deadline) and keeps every event's record.
struct Run {
  std::vector<AgentEventKind> kinds;
  std::vector<JournalLine> records;
  std::exception_ptr error;
  bool completed = false;
  bool timed_out = false;

  [[nodiscard]] std::size_t count(AgentEventKind kind) const { return static_cast<std::size_t>(std::count(kinds.begin(), kinds.end(), kind)); }
};

using StopWhen = std::function<bool(const Run&, const AgentEvent&)>;

// How one run goes: when to stop (checked after each event), how long to stay after that (so a
// case can watch what the agent does next), a deadline, and hooks into the agent.
struct RunPlan {
  StopWhen stop_when = {};
  std::chrono::milliseconds linger{0};
  std::chrono::milliseconds deadline{std::chrono::seconds(20)};
  std::function<void(Agent&)> prepare = {};     ///< before async_run: a veto, the exit target
  std::function<void(const Agent&)> ready = {}; ///< AgentOptions::on_ready: the journal replayed
  std::function<void(const Agent&)> before_stop = {}; ///< just before stop(), after the linger
  std::function<void(const Agent&)> after = {};       ///< once async_run has completed
};

struct Harness {
  asio::io_context io;
  SimulatedService service;
  TempDir state;
  std::string yaml;

  explicit Harness(const std::string& extra_guardrails = "", const std::string& constraint = "latency_ms <= 40")
      : yaml(config_yaml(state.path / "state", extra_guardrails, constraint)) {}

  // Registers the adapters `yaml` names: by default its one adapter, which sets both knobs.
  std::function<void(Agent&)> add_adapters = [this](Agent& agent) {
    agent.add_adapter(std::make_unique<CallbackAdapter>(
        io.get_executor(), "service", std::vector<std::string>{"pool_size", "batch"},
        [this](const Settings& s) { return service.apply(s); }, [this] { return service.current(); }));
  };

  // Runs a fresh Agent over the service as the plan says.
  Run run(const RunPlan& plan) {
    const Agent* running = nullptr;
    AgentOptions options;
    options.control_server = false;
    if (plan.ready) options.on_ready = [&] { plan.ready(*running); };
    Agent agent(io.get_executor(), parse_tuning_config(yaml, "agent_test.yaml"), options);
    running = &agent;
    add_adapters(agent);
    agent.set_metrics_source([this] { return service.metrics_text(); });
    Run result;
    bool stopping = false;
    asio::steady_timer linger_timer(io);
    agent.set_event_handler([&](const AgentEvent& event) {
      result.kinds.push_back(event.kind);
      result.records.push_back(event.record);
      if (stopping || !plan.stop_when(result, event)) return;
      stopping = true;
      linger_timer.expires_after(plan.linger);
      linger_timer.async_wait([&agent, &plan](boost::system::error_code ec) {
        if (ec) return;
        if (plan.before_stop) plan.before_stop(agent);
        agent.stop();
      });
    });
    if (plan.prepare) plan.prepare(agent);
    asio::steady_timer deadline_timer(io, plan.deadline);
    deadline_timer.async_wait([&](boost::system::error_code ec) {
      if (ec || stopping) return;
      result.timed_out = true;
      stopping = true;
      agent.stop();
    });
    agent.async_run([&](std::exception_ptr e) {
      result.error = e;
      result.completed = true;
      deadline_timer.cancel();
      linger_timer.cancel();
    });
    io.restart();
    io.run();
    if (plan.after) plan.after(agent);
    return result;
  }

  // The journal as written to disk, decoded.
  std::vector<JournalLine> journal() const {
    std::vector<JournalLine> lines;
    std::ifstream in(state.path / "state" / "journal.jsonl");
    for (std::string text; std::getline(in, text);)
      if (!text.empty()) lines.push_back(decode_line(boost::json::parse(text).as_object()));
    return lines;
  }
};

std::optional<Purpose> applied_purpose(const JournalLine& line) {
  if (const auto* applied = std::get_if<AppliedRecord>(&line.record)) return applied->purpose;
  return std::nullopt;
}

Settings settings_at(std::int64_t pool_size, std::int64_t batch) { return {{"pool_size", pool_size}, {"batch", batch}}; }

Settings incumbent_of(const Agent& agent) {
  const auto status = agent.status();
  BOOST_TEST_REQUIRE(status.contains("incumbent"));
  return settings_from_json(status.at("incumbent"));
}

void require_clean_end(const Run& run) {
  BOOST_TEST_REQUIRE(run.completed);
  BOOST_TEST_REQUIRE(!run.error);
  BOOST_TEST_REQUIRE(!run.timed_out);
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent)

BOOST_AUTO_TEST_CASE(promotes_a_better_candidate_and_leaves_it_running) {
  Harness h;
  Settings incumbent;
  const auto run = h.run({.stop_when = [](const Run&, const AgentEvent& e) { return e.kind == AgentEventKind::promoted; },
                          .after = [&](const Agent& agent) { incumbent = incumbent_of(agent); }});
  require_clean_end(run);
  BOOST_TEST(run.count(AgentEventKind::promoted) == 1u);
  // The promoted candidate beats the default on throughput and meets the constraint.
  BOOST_TEST((incumbent != settings_at(4, 2)));
  SimulatedService promoted;
  promoted.pool_size = int_setting(incumbent, "pool_size");
  promoted.batch = int_setting(incumbent, "batch");
  BOOST_TEST(promoted.throughput() > SimulatedService{}.throughput());
  BOOST_TEST(promoted.latency_ms() <= 40.0);
  // Stopping leaves the last known good configuration: the one just promoted.
  BOOST_TEST((h.service.current() == incumbent));
  // The journal on disk holds the promotion the host heard about.
  const auto journal = h.journal();
  BOOST_TEST(std::count_if(journal.begin(), journal.end(), [](const JournalLine& l) {
               const auto* d = std::get_if<DecisionRecord>(&l.record);
               return d != nullptr && d->verdict == DecisionVerdict::promote;
             }) == 1);
}

BOOST_AUTO_TEST_CASE(adapters_registered_out_of_config_order_are_each_given_their_own_params) {
  Harness h;
  const std::string one = "  - {name: service, kind: callback, params: [pool_size, batch]}\n";
  h.yaml.replace(h.yaml.find(one), one.size(),
                 "  - {name: pool, kind: callback, params: [pool_size]}\n"
                 "  - {name: batching, kind: callback, params: [batch]}\n");
  std::vector<Settings> pool_given, batching_given;
  // An adapter that sets one knob of the service and notes what it was given.
  const auto one_knob = [&h](std::string name, std::string param, std::int64_t& knob, std::vector<Settings>& given) {
    return std::make_unique<CallbackAdapter>(
        h.io.get_executor(), std::move(name), std::vector<std::string>{param},
        [&knob, &given, param](const Settings& s) {
          given.push_back(s);
          knob = int_setting(s, param);
          return AdapterResult{};
        },
        [&knob, param] { return Settings{{param, knob}}; });
  };
  h.add_adapters = [&](Agent& agent) {
    agent.add_adapter(one_knob("batching", "batch", h.service.batch, batching_given));
    agent.add_adapter(one_knob("pool", "pool_size", h.service.pool_size, pool_given));
  };
  const auto run = h.run({.stop_when = [](const Run& r, const AgentEvent&) { return r.count(AgentEventKind::applied) >= 4; }});
  require_clean_end(run);
  BOOST_TEST(!pool_given.empty());
  BOOST_TEST(!batching_given.empty());
  for (const auto& given : pool_given) BOOST_TEST((given.size() == 1 && given[0].first == "pool_size"));
  for (const auto& given : batching_given) BOOST_TEST((given.size() == 1 && given[0].first == "batch"));
}

// An adapter must set exactly its config entry's params, each once; the refusal names it and
// leaves it unregistered, so the host can register a correct one.
BOOST_AUTO_TEST_CASE(an_adapter_whose_params_differ_from_its_entry_is_refused_by_name) {
  Harness h;
  AgentOptions options;
  options.control_server = false;
  Agent agent(h.io.get_executor(), parse_tuning_config(h.yaml, "agent_test.yaml"), options);
  const auto with_params = [&h](std::vector<std::string> params) {
    return std::make_unique<CallbackAdapter>(
        h.io.get_executor(), "service", std::move(params), [](const Settings&) { return AdapterResult{}; },
        [] { return Settings{}; });
  };
  for (auto params : {std::vector<std::string>{"pool_size"}, std::vector<std::string>{"pool_size", "batch", "batch"},
                      std::vector<std::string>{"pool_size", "batch", "extra"}}) {
    try {
      agent.add_adapter(with_params(params));
      BOOST_ERROR("accepted params of " << params.size());
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()) == "adapter 'service' sets other params than the config gives it");
    }
  }
  BOOST_CHECK_NO_THROW(agent.add_adapter(with_params({"batch", "pool_size"})));
}

BOOST_AUTO_TEST_CASE(rolls_back_a_candidate_that_breaks_the_constraint) {
  // Every batch above 4 breaks latency <= 30; the service starts at batch 2 (latency 20).
  Harness h("", "latency_ms <= 30");
  const auto run = h.run({.stop_when = [](const Run&, const AgentEvent& e) { return applied_purpose(e.record) == Purpose::rollback; }});
  require_clean_end(run);
  // What was rolled back broke the constraint, and the service is back on the incumbent.
  const auto rolled = std::find(run.kinds.begin(), run.kinds.end(), AgentEventKind::rolled_back);
  BOOST_TEST_REQUIRE((rolled != run.kinds.end()));
  const auto& decision = std::get<DecisionRecord>(run.records[static_cast<std::size_t>(rolled - run.kinds.begin())].record);
  BOOST_TEST_REQUIRE(decision.point.has_value());
  BOOST_TEST(int_setting(*decision.point, "batch") > 4);
  BOOST_TEST(h.service.batch <= 4);
}

BOOST_AUTO_TEST_CASE(enters_safe_mode_when_the_rollback_budget_is_spent_and_applies_no_candidate_after) {
  // Only batch 2 or less meets the constraint, and one rollback an hour is allowed.
  Harness h("  max_rollbacks_per_hour: 1\n", "latency_ms <= 20.5");
  std::string phase;
  // Stay two seconds in safe mode: a candidate applied then would be a bug.
  const auto run = h.run({.stop_when = [](const Run&, const AgentEvent& e) { return e.kind == AgentEventKind::safe_mode_entered; },
                          .linger = std::chrono::seconds(2),
                          .before_stop = [&](const Agent& agent) { phase = agent.status().at("phase").as_string().c_str(); }});
  require_clean_end(run);
  const auto safe = std::find(run.kinds.begin(), run.kinds.end(), AgentEventKind::safe_mode_entered);
  BOOST_TEST_REQUIRE((safe != run.kinds.end()));
  for (auto i = static_cast<std::size_t>(safe - run.kinds.begin()); i < run.records.size(); ++i)
    BOOST_TEST((applied_purpose(run.records[i]) != Purpose::candidate));
  BOOST_TEST(h.service.batch <= 2);
  BOOST_TEST(phase == "safe_mode");
}

BOOST_AUTO_TEST_CASE(refuses_every_candidate_the_host_vetoes) {
  Harness h;
  const auto run = h.run({.stop_when = [](const Run& r, const AgentEvent&) { return r.count(AgentEventKind::refused) >= 3; },
                          .prepare = [](Agent& agent) {
                            agent.set_veto([](const Point&) -> std::optional<std::string> { return "change freeze"; });
                          }});
  require_clean_end(run);
  BOOST_TEST(h.service.applies == 0u);
  for (std::size_t i = 0; i < run.kinds.size(); ++i) {
    BOOST_TEST((run.kinds[i] != AgentEventKind::applied));
    if (run.kinds[i] == AgentEventKind::refused) {
      const auto& refusal = std::get<RefusalRecord>(run.records[i].record);
      BOOST_TEST(refusal.reason == "host_veto");
      BOOST_TEST(refusal.detail.find("change freeze") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(stop_restores_the_incumbent_or_the_baseline_or_leaves_the_candidate) {
  // Each run stops just after the first candidate is applied, mid-window, before any promotion:
  // the incumbent and the baseline are both the default there.
  for (const auto target : {StopTarget::last_known_good, StopTarget::baseline, StopTarget::leave}) {
    BOOST_TEST_CONTEXT("stop target " << static_cast<int>(target)) {
      Harness h;
      Settings candidate;
      const auto run = h.run({.stop_when =
                                  [&](const Run&, const AgentEvent& e) {
                                    if (applied_purpose(e.record) != Purpose::candidate) return false;
                                    candidate = std::get<AppliedRecord>(e.record.record).point;
                                    return true;
                                  },
                              .prepare = [target](Agent& agent) { agent.set_on_exit(target); }});
      require_clean_end(run);
      BOOST_TEST_REQUIRE(!candidate.empty());
      BOOST_TEST((h.service.current() == (target == StopTarget::leave ? candidate : settings_at(4, 2))));
      // A restore is journaled before it is made.
      const auto journal = h.journal();
      const bool restored = std::any_of(journal.begin(), journal.end(), [](const JournalLine& l) {
        const auto* apply = std::get_if<ApplyRecord>(&l.record);
        return apply != nullptr && apply->purpose == Purpose::restore;
      });
      BOOST_TEST(restored == (target != StopTarget::leave));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_restart_resumes_from_the_journal) {
  Harness h;
  Settings incumbent;
  const auto first = h.run({.stop_when = [](const Run&, const AgentEvent& e) { return e.kind == AgentEventKind::promoted; },
                            .prepare = [](Agent& agent) { agent.set_on_exit(StopTarget::leave); },
                            .after = [&](const Agent& agent) { incumbent = incumbent_of(agent); }});
  require_clean_end(first);
  const auto last_seq = h.journal().back().seq;

  // The second agent reads the same state directory: the incumbent and the baseline are back
  // before anything is measured, and its records continue the sequence.
  std::optional<Settings> incumbent_when_ready;
  std::optional<boost::json::object> baseline_when_ready;
  const auto second = h.run({.stop_when = [](const Run&, const AgentEvent&) { return true; },
                             .ready =
                                 [&](const Agent& agent) {
                                   incumbent_when_ready = incumbent_of(agent);
                                   baseline_when_ready = agent.study_report().baseline;
                                 }});
  require_clean_end(second);
  BOOST_TEST((incumbent_when_ready == incumbent));
  BOOST_TEST_REQUIRE(baseline_when_ready.has_value());
  BOOST_TEST((settings_from_json(*baseline_when_ready) == settings_at(4, 2)));
  // The second run's records continue the first's: its start record follows the first's last.
  const auto journal = h.journal();
  BOOST_TEST_REQUIRE(journal.size() > last_seq);
  for (std::size_t i = 0; i < journal.size(); ++i) BOOST_TEST(journal[i].seq == i + 1);
  BOOST_TEST(std::holds_alternative<StartRecord>(journal[last_seq].record));
  // The service was left on the promoted configuration and the agent read it as running.
  BOOST_TEST((h.service.current() == incumbent));
}

BOOST_AUTO_TEST_SUITE_END()
