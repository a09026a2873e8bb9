#pragma once

// The tuning loop driven against a simulated service in simulated time, for the loop's suites.

#include <trimtab/core/tuning_loop.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <ostream>
#include <set>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/make_solver.hpp>
#include <trimtab/core/point_json.hpp>

namespace trimtab {
// For Boost.Test's messages.
inline std::ostream& operator<<(std::ostream& out, LoopPhase phase) { return out << phase_name(phase); }
inline std::ostream& operator<<(std::ostream& out, TuningMode mode) { return out << mode_name(mode); }
inline std::ostream& operator<<(std::ostream& out, const Point& point) {
  out << '(';
  for (const auto& value : point.values) std::visit([&](const auto& v) { out << v << ' '; }, value);
  return out << ')';
}
} // namespace trimtab

namespace trimtab::loop_test {

using namespace std::chrono_literals;


// A service with two knobs: throughput peaks at pool 40, batch 16; latency explodes below pool 4.
inline Space service_space() {
  return Space({Param{"pool", IntRange{1, 64, 1, false}, Value{std::int64_t{8}}, std::nullopt},
                Param{"batch", IntRange{1, 32, 1, false}, Value{std::int64_t{4}}, std::nullopt}});
}

inline std::int64_t as_int(const Point& p, std::size_t i) { return std::get<std::int64_t>(p.values.at(i)); }

inline TuningPolicy service_policy() {
  TuningPolicy policy;
  policy.direction = Direction::maximize;
  policy.objective = Expression::parse("rps");
  policy.constraints = {Constraint::parse_constraint("p99_ms <= 250")};
  policy.signals = {SignalSpec::rate("rps", "requests_total"),
                    SignalSpec::gauge("p99_ms", "latency_p99_ms", GaugeReduce::mean)};
  policy.settle = 2s;
  policy.duration = 10s;
  policy.min_samples = 5;
  policy.budget = 12;
  policy.required_improvement = Amount{5.0, true};
  policy.guardrails.max_delta = {Amount{8.0, false}, Amount{50.0, true}};
  policy.guardrails.max_updates_per_second = 1.0;
  policy.guardrails.min_dwell = 0s;
  policy.guardrails.max_rollbacks_per_hour = 3;
  policy.remeasure_every = 0;
  // A study here ends where it ends; the guard's own tests turn guarding on.
  policy.guard_after_study = false;
  return policy;
}

// Drives a TuningLoop against a simulated service in simulated time: it carries out every action
// the loop returns, scrapes once a second and fires the loop's timer.
struct Simulation {
  explicit Simulation(TuningPolicy policy, std::string solver = "bayes")
      : space(service_space()),
        loop(make_solver(solver, space, SolverOptions{policy.direction, 7}), policy),
        service(space.default_point()) {}
  Simulation(TuningPolicy policy, std::unique_ptr<Solver> solver)
      : space(service_space()), loop(std::move(solver), policy), service(space.default_point()) {}

  Space space;
  TuningLoop loop;
  Point service;
  double counter = 0;
  TimePoint now = TimePoint{} + 1'700'000'000s;
  std::optional<TimePoint> wake;
  std::vector<boost::json::object> journal;
  struct Applied {
    TimePoint at;
    Point point;
    Purpose purpose;
  };
  std::vector<Applied> applied;
  std::vector<Point> saved_best;
  std::function<std::optional<std::string>(const Point&)> apply_error = [](const Point&) { return std::nullopt; };
  std::function<double(const Point&)> rate = [](const Point& p) {
    const double pool = double(as_int(p, 0)), batch = double(as_int(p, 1));
    return 1000.0 - 0.3 * (pool - 40) * (pool - 40) - 0.8 * (batch - 16) * (batch - 16);
  };
  std::function<double(const Point&)> p99 = [](const Point& p) { return as_int(p, 0) < 4 ? 900.0 : 120.0; };
  bool hold_applies = false;               // an apply stays in flight until finish_apply()
  std::optional<ApplyAction> in_flight;
  std::mt19937 noise{3};
  double noise_fraction = 0.01;
  bool scraping = true;

  void run(std::vector<LoopAction> actions) {
    for (auto& action : actions) {
      if (auto* r = std::get_if<RecordAction>(&action)) {
        auto record = encode_record(r->record);
        record["seq"] = journal.size() + 1;
        record["time"] = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        journal.push_back(std::move(record));
      } else if (auto* a = std::get_if<ApplyAction>(&action)) {
        if (hold_applies) in_flight = *a;
        else land(*a);
      } else if (auto* w = std::get_if<WakeAction>(&action)) {
        wake = w->at;
      } else if (auto* s = std::get_if<SaveBestAction>(&action)) {
        saved_best.push_back(s->point);
      }
    }
  }

  // The apply ends: done, or failed when apply_error says so.
  void land(const ApplyAction& apply) {
    if (auto error = apply_error(apply.point)) {
      run(loop.on_apply_failed(now, *error));
      return;
    }
    service = apply.point;
    applied.push_back({now, apply.point, apply.purpose});
    run(loop.on_apply_done(now));
  }

  // Lands the apply held in flight (see hold_applies).
  void finish_apply() {
    const auto apply = *in_flight;
    in_flight.reset();
    land(apply);
  }

  Scrape scrape() {
    std::normal_distribution<double> gauss(0.0, 1.0);
    Scrape s;
    s.time_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
    s.values["requests_total"][{}] = counter;
    s.values["latency_p99_ms"][{}] = p99(service) * (1 + noise_fraction * gauss(noise));
    return s;
  }

  void start() { run(loop.start(now, service)); }

  void advance(std::chrono::seconds span) {
    const auto end = now + span;
    std::normal_distribution<double> gauss(0.0, 1.0);
    while (now < end) {
      const auto next_scrape = now + 1s;
      if (wake && *wake <= next_scrape) {
        now = std::max(now, *wake);
        wake.reset();
        run(loop.on_timer(now));
      } else {
        now = next_scrape;
        counter += std::max(0.0, rate(service) * (1 + noise_fraction * gauss(noise)));
        if (scraping) run(loop.on_scrape(now, scrape()));
      }
    }
  }

  std::vector<const boost::json::object*> records(std::string_view type) const {
    std::vector<const boost::json::object*> out;
    for (const auto& r : journal)
      if (r.at("type").as_string() == type) out.push_back(&r);
    return out;
  }
  std::size_t count(std::string_view type, std::string_view key = {}, std::string_view value = {}) const {
    std::size_t n = 0;
    for (const auto* r : records(type))
      if (key.empty() || (r->contains(key) && r->at(key).as_string() == value)) ++n;
    return n;
  }
};

// Every apply the simulation carried out respected bounds and max_delta from the one before.
inline void check_every_step_within_guardrails(const Simulation& sim, const TuningPolicy& policy) {
  Point previous = sim.space.default_point();
  for (const auto& step : sim.applied) {
    BOOST_TEST(!sim.space.check(step.point).has_value());
    for (std::size_t i = 0; i < 2; ++i) {
      const double from = double(as_int(previous, i)), to = double(as_int(step.point, i));
      const auto& delta = *policy.guardrails.max_delta[i];
      const double limit = std::max({1.0, delta.around(from), delta.around(to)});
      BOOST_TEST(std::abs(to - from) <= limit + 1e-9, "param " << i << " moved " << from << " -> " << to);
    }
    previous = step.point;
  }
}

} // namespace trimtab::loop_test

