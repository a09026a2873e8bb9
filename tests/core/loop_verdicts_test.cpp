// The tuning loop's verdict rules end to end: feasibility first, pooled evidence, windows that end
// when the question is answered, and the study's claim.

#include "loop_simulation.hpp"

#include <algorithm>
#include <deque>

using namespace trimtab;
using namespace trimtab::loop_test;
using namespace std::chrono_literals;

namespace {

// Proposes a fixed list of configurations, in order, then nothing.
class ScriptedSolver final : public Solver {
public:
  ScriptedSolver(Space space, Direction direction, std::vector<Point> script)
      : Solver(std::move(space), SolverOptions{direction, 1}), script_(script.begin(), script.end()) {}
  using Solver::ask;
  std::optional<Point> ask(const Box& /*within*/) override {
    if (script_.empty()) return std::nullopt;
    auto next = script_.front();
    script_.pop_front();
    return next;
  }

private:
  std::deque<Point> script_;
};

Point at(std::int64_t pool, std::int64_t batch = 4) { return Point{{Value{pool}, Value{batch}}}; }

// Wide steps, so a script may jump, and nothing confirmed by switchback unless a test asks.
TuningPolicy scripted_policy() {
  auto policy = service_policy();
  policy.guardrails.max_delta = {Amount{100.0, false}, Amount{100.0, false}};
  policy.guardrails.max_rollbacks_per_hour = 1;
  policy.budget = 50;
  policy.final_confirmation_pairs = 0;
  return policy;
}

std::vector<std::string> verdicts_about(const Simulation& sim, const Point& point) {
  std::vector<std::string> out;
  for (const auto* r : sim.records("decision"))
    if (point_from_json(sim.space, r->at("point")) == point) out.emplace_back(r->at("verdict").as_string());
  return out;
}

const boost::json::object& last_claim(const Simulation& sim) {
  const auto claims = sim.records("claim");
  BOOST_REQUIRE_EQUAL(claims.size(), 1u);
  return *claims.front();
}

} // namespace

BOOST_AUTO_TEST_SUITE(loop_verdicts)

BOOST_AUTO_TEST_CASE(an_infeasible_baseline_is_escaped_not_defended) {
  // The default (pool 8) serves the most requests but breaks p99 <= 250; smaller pools serve more
  // and break it worse, pool 10 breaks it less, pool 12 and up meet it.
  auto policy = scripted_policy();
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction,
                                                          std::vector<Point>{at(2), at(10), at(20), at(30)}));
  sim.rate = [](const Point& p) { return 2000.0 - 10.0 * double(as_int(p, 0)); };
  sim.p99 = [](const Point& p) {
    const auto pool = as_int(p, 0);
    return pool < 4 ? 2000.0 : pool == 10 ? 300.0 : pool < 12 ? 900.0 : 120.0;
  };
  sim.start();
  sim.advance(600s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  // Pool 2 breaks the limit worse than the default: back, without charging the rollback budget.
  BOOST_TEST(verdicts_about(sim, at(2)) == std::vector<std::string>{"rollback"});
  bool uncounted = false;
  for (const auto* r : sim.records("decision"))
    if (point_from_json(sim.space, r->at("point")) == at(2)) uncounted = r->contains("counted") && !r->at("counted").as_bool();
  BOOST_TEST(uncounted);
  // Pool 10 breaks it less than the default: promoted. Pool 20 meets it: promoted, though it serves less.
  BOOST_TEST(verdicts_about(sim, at(10)) == std::vector<std::string>{"promote"});
  BOOST_TEST(verdicts_about(sim, at(20)) == std::vector<std::string>{"promote"});
  // Pool 30 is feasible and 5.6 % worse than the feasible incumbent: a counted rollback.
  BOOST_TEST(verdicts_about(sim, at(30)) == std::vector<std::string>{"rollback"});
  BOOST_TEST(!sim.loop.in_safe_mode()); // one counted rollback; max_rollbacks_per_hour is 1
  BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 1u);
  BOOST_REQUIRE(sim.loop.incumbent());
  BOOST_TEST(*sim.loop.incumbent() == at(20));
  BOOST_TEST(sim.service == at(20));
  // The claim says the baseline was infeasible rather than quoting a loss of throughput.
  BOOST_TEST(last_claim(sim).at("method").as_string() == "feasibility");
}

BOOST_AUTO_TEST_CASE(a_lucky_window_regresses_to_the_mean_in_the_claim) {
  // Pool 20 is no better than the default, but its first window is 30 % lucky.
  auto policy = scripted_policy();
  policy.remeasure_every = 1;
  policy.max_candidate_windows = 1;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  std::optional<TimePoint> lucky_until;
  sim.rate = [&](const Point& p) {
    if (p == at(20)) {
      if (!lucky_until) lucky_until = sim.now + policy.settle + policy.duration + 1s;
      if (sim.now <= *lucky_until) return 1300.0;
    }
    return 1000.0;
  };
  sim.start();
  sim.advance(900s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  BOOST_TEST(verdicts_about(sim, at(20)).front() == "promote");
  const auto& claim = last_claim(sim);
  BOOST_TEST(claim.at("method").as_string() == "pooled");
  // The incumbent's remeasured windows say 1000, as the baseline: the claim is about 0, not +30 %.
  const double improvement = claim.at("improvement").to_number<double>();
  BOOST_TEST(std::abs(improvement) < 0.03, "claimed " << improvement);
  BOOST_TEST(claim.at("low").to_number<double>() <= 0.0);
}

BOOST_AUTO_TEST_CASE(the_final_confirmation_measures_best_against_baseline) {
  auto policy = scripted_policy();
  policy.final_confirmation_pairs = 3;
  policy.switchback_duration = 5s;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim.rate = [](const Point& p) { return p == at(20) ? 1200.0 : 1000.0; };
  sim.start();
  sim.advance(600s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  const auto& claim = last_claim(sim);
  BOOST_TEST(claim.at("method").as_string() == "switchback");
  BOOST_TEST(claim.at("pairs").to_number<double>() == 3.0);
  const double improvement = claim.at("improvement").to_number<double>();
  BOOST_TEST(improvement == 0.2, boost::test_tools::tolerance(0.03));
  BOOST_TEST(claim.at("low").to_number<double>() < improvement);
  BOOST_TEST(claim.at("high").to_number<double>() > improvement);
  BOOST_TEST(sim.service == at(20)); // it ends on the best, after the baseline ran again
  std::size_t final_pairs = 0;
  for (const auto* r : sim.records("switchback")) final_pairs += r->contains("final") ? 1 : 0;
  BOOST_TEST(final_pairs == 3u);
  BOOST_TEST(sim.loop.claim().has_value());
}

BOOST_AUTO_TEST_CASE(an_ambiguous_window_is_extended) {
  // Pool 20 is 7 % better, and the per-second noise is 25 %: one window cannot tell.
  auto policy = scripted_policy();
  policy.max_candidate_windows = 4;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim.noise_fraction = 0.25;
  sim.rate = [](const Point& p) { return p == at(20) ? 1070.0 : 1000.0; };
  sim.start();
  sim.advance(600s);
  const auto verdicts = verdicts_about(sim, at(20));
  BOOST_REQUIRE(!verdicts.empty());
  BOOST_TEST(verdicts.front() == "extend");
  BOOST_TEST(verdicts.size() >= 2u);
  // Both sides of the close call earn windows, the one with fewer unselected windows first: after
  // the candidate's first window, the candidate again (the baseline has one window, not a selected
  // one); after its second, the incumbent; then the candidate, and so on.
  std::vector<std::string> order; // "c" a candidate window of pool 20, "i" the incumbent's
  for (const auto* r : sim.records("observation")) {
    const auto purpose = std::string(r->at("purpose").as_string());
    if (purpose == "candidate" && point_from_json(sim.space, r->at("point")) == at(20)) order.push_back("c");
    if (purpose == "remeasure") order.push_back("i");
  }
  BOOST_REQUIRE(order.size() >= 3u);
  BOOST_TEST(order[0] == "c");
  BOOST_TEST(order[1] == "c");
  BOOST_TEST(order[2] == "i");
  const auto candidate_windows = static_cast<std::size_t>(std::count(order.begin(), order.end(), "c"));
  BOOST_TEST(candidate_windows <= 4u);
  // One verdict per window of either side, until the last.
  BOOST_TEST(verdicts.size() == order.size());
  // The solver is told every window with its standard error, and the journal keeps it.
  for (const auto& evaluation : sim.loop.solver().history()) {
    BOOST_TEST(evaluation.positive_sems == evaluation.successes());
    BOOST_REQUIRE(evaluation.sem().has_value());
    BOOST_TEST(*evaluation.sem() > 0.0);
  }
  for (const auto* r : sim.records("observation")) BOOST_TEST(r->at("sem").to_number<double>() > 0.0);
}

// When the operator switches to recommend mode during a close call.
enum class RecommendComes {
  during_the_incumbent_window, // the close call's window of the incumbent is under way
  during_the_move_back,        // the move back to the incumbent for that window is being applied
  while_paused,                // paused during the move back, recommend, then resume
};

// A close call's incumbent window that is under way when the operator switches to recommend mode
// goes on and counts, but settles nothing: the candidate cannot be applied, so it must not become
// the incumbent, which the agent saves as the configuration to restore. The same however the
// switch comes.
void recommend_mode_drops_a_close_call(RecommendComes when) {
  const bool while_the_move_back_is_applied = when != RecommendComes::during_the_incumbent_window;
  auto policy = scripted_policy();
  policy.max_candidate_windows = 4;
  policy.switchback_pairs = 0;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  // Deterministic noise: +-10 % in alternate seconds, so pool 20's 7 % is a close call every time.
  sim.noise_fraction = 0.0;
  bool recommending = false;
  // Once recommending, the incumbent's window is poor: judged, the close call would promote pool 20.
  sim.rate = [&](const Point& p) {
    const double swing = sim.now.time_since_epoch() / 1s % 2 == 0 ? 1.1 : 0.9;
    return swing * (p == at(20) ? 1070.0 : recommending ? 900.0 : 1000.0);
  };
  sim.hold_applies = while_the_move_back_is_applied;
  sim.start();
  auto remeasuring = [&] {
    const auto decisions = sim.records("decision");
    const bool asked = !decisions.empty() && decisions.back()->at("verdict").as_string() == "extend" &&
                       std::string(decisions.back()->at("reason").as_string()).find("measuring the incumbent again") !=
                           std::string::npos;
    if (while_the_move_back_is_applied) return asked && sim.in_flight && sim.in_flight->point == sim.space.default_point();
    return asked && sim.service == sim.space.default_point() &&
           (sim.loop.phase() == LoopPhase::settling || sim.loop.phase() == LoopPhase::observing);
  };
  for (int second = 0; second < 900 && !remeasuring(); ++second) {
    if (sim.in_flight) sim.finish_apply();
    else sim.advance(1s);
  }
  BOOST_REQUIRE(remeasuring());
  const auto seen = sim.journal.size();
  auto command = [&](OperatorCommand c) {
    auto outcome = sim.loop.on_command(sim.now, c, "test");
    BOOST_REQUIRE(outcome.ok);
    sim.run(std::move(outcome.actions));
  };
  if (when == RecommendComes::while_paused) {
    command(OperatorCommand::pause);
    sim.finish_apply();
  }
  command(OperatorCommand::recommend);
  recommending = true;
  if (sim.in_flight) sim.finish_apply();
  sim.hold_applies = false;
  if (when == RecommendComes::while_paused) command(OperatorCommand::resume);
  sim.advance(120s);
  BOOST_TEST(sim.service == sim.space.default_point()); // nothing applied in recommend mode
  for (std::size_t i = seen; i < sim.journal.size(); ++i) {
    const auto& r = sim.journal[i];
    if (r.at("type").as_string() == "incumbent") BOOST_TEST(point_from_json(sim.space, r.at("point")) == sim.service);
    if (r.at("type").as_string() == "decision") BOOST_TEST(r.at("verdict").as_string() != "promote");
  }
  BOOST_REQUIRE(sim.loop.incumbent().has_value());
  BOOST_TEST(*sim.loop.incumbent() == sim.service);
  BOOST_TEST(sim.saved_best.back() == sim.service);
}

BOOST_AUTO_TEST_CASE(recommend_mode_drops_a_close_call_whose_incumbent_window_is_under_way) {
  recommend_mode_drops_a_close_call(RecommendComes::during_the_incumbent_window);
}

BOOST_AUTO_TEST_CASE(recommend_mode_drops_a_close_call_whose_move_back_is_being_applied) {
  recommend_mode_drops_a_close_call(RecommendComes::during_the_move_back);
}

BOOST_AUTO_TEST_CASE(recommend_mode_drops_a_close_call_that_a_pause_interrupted) {
  recommend_mode_drops_a_close_call(RecommendComes::while_paused);
}

BOOST_AUTO_TEST_CASE(a_close_call_against_a_lucky_incumbent_measures_the_incumbent_again) {
  // Pool 20 is promoted on a window 10 % luckier than it is (1100 for 1000); pool 24 is really 14 %
  // better (1140) but looks only 3.6 % better than that luck, short of the required 5 %. Judged
  // against the lucky window alone, pool 24 would be kept out after its windows; the incumbent's
  // window measured again, it is promoted.
  auto policy = scripted_policy();
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20), at(24)}));
  sim.noise_fraction = 0.05;
  std::optional<TimePoint> lucky_until;
  sim.rate = [&](const Point& p) {
    if (p == at(20)) {
      if (!lucky_until) lucky_until = sim.now + policy.settle + policy.duration + 1s;
      return sim.now <= *lucky_until ? 1100.0 : 1000.0;
    }
    return p == at(24) ? 1140.0 : 900.0;
  };
  sim.start();
  sim.advance(900s);
  BOOST_REQUIRE(sim.loop.incumbent());
  BOOST_TEST(*sim.loop.incumbent() == at(24));
  // After pool 24's first window, pool 20 was measured again before pool 24 was decided.
  bool candidate_seen = false, remeasured_between = false;
  for (const auto* r : sim.records("observation")) {
    const auto point = point_from_json(sim.space, r->at("point"));
    if (point == at(24)) candidate_seen = true;
    if (candidate_seen && point == at(20) && r->at("purpose").as_string() == "remeasure") remeasured_between = true;
  }
  BOOST_TEST(remeasured_between);
  const auto verdicts = verdicts_about(sim, at(24));
  BOOST_REQUIRE(!verdicts.empty());
  BOOST_TEST(verdicts.front() == "extend");
  BOOST_TEST(verdicts.back() == "promote");
  const auto decisions = sim.records("decision");
  const auto promotion = std::find_if(decisions.begin(), decisions.end(), [&](const boost::json::object* r) {
    return r->at("verdict").as_string() == "promote" && point_from_json(sim.space, r->at("point")) == at(24);
  });
  BOOST_REQUIRE((promotion != decisions.end()));
  BOOST_TEST(std::string((*promotion)->at("reason").as_string()).find("after the incumbent's window") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_clearly_worse_candidate_ends_its_window_early) {
  auto policy = scripted_policy();
  policy.duration = 30s;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim.rate = [](const Point& p) { return p == at(20) ? 500.0 : 1000.0; };
  sim.start();
  sim.advance(200s);
  BOOST_REQUIRE(sim.applied.size() >= 2u);
  BOOST_TEST((sim.applied[0].purpose == Purpose::candidate));
  BOOST_TEST((sim.applied[1].purpose == Purpose::rollback));
  // Rolled back well before settle + 30 s.
  BOOST_TEST((sim.applied[1].at - sim.applied[0].at < policy.settle + 15s));
  bool early = false;
  for (const auto* r : sim.records("decision"))
    early |= std::string(r->at("reason").as_string()).find("ended early") != std::string::npos;
  BOOST_TEST(early);
}

BOOST_AUTO_TEST_CASE(a_load_shift_never_hides_a_broken_constraint) {
  // The load signal is the served rate, which this candidate changes: the window is not discarded
  // for it, because p99 is clearly broken.
  auto policy = scripted_policy();
  policy.load_signal = "rps";
  policy.load_band = 0.1;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20), at(24)}));
  sim.rate = [](const Point& p) { return p == at(20) ? 600.0 : p == at(24) ? 1500.0 : 1000.0; };
  sim.p99 = [](const Point& p) { return p == at(20) ? 800.0 : 120.0; };
  sim.start();
  sim.advance(300s);
  const auto at20 = verdicts_about(sim, at(20));
  BOOST_REQUIRE(!at20.empty());
  BOOST_TEST(at20.front() == "rollback");
  // A load shift with every constraint met is still discarded.
  const auto at24 = verdicts_about(sim, at(24));
  BOOST_REQUIRE(!at24.empty());
  BOOST_TEST(at24.front() == "discard");
}

// --- after the study: the guard --------------------------------------------------------------

namespace {

// A study that promotes pool 20 (1200 requests/s against the default's 1000) and confirms it
// against the baseline, then guards it.
TuningPolicy guarded_policy() {
  auto policy = scripted_policy();
  policy.guard_after_study = true;
  policy.final_confirmation_pairs = 3;
  // As long as a window, so the guard's level (from the switchback windows at the study's end) and
  // its windows measure alike: the simulation's clock skips a scrape where a shorter window, too
  // short for min_samples, is extended.
  policy.switchback_duration = policy.duration;
  return policy;
}

// Pool 20 against the default, promoted, confirmed, and the study done: what the guard's tests start from.
std::unique_ptr<Simulation> guarded_study(const TuningPolicy& policy) {
  auto sim = std::make_unique<Simulation>(
      policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim->rate = [](const Point& p) { return p == at(20) ? 1200.0 : 1000.0; };
  sim->start();
  sim->advance(300s);
  BOOST_REQUIRE_EQUAL(sim->records("done").size(), 1u);
  return sim;
}

std::vector<const boost::json::object*> guard_decisions(const Simulation& sim) {
  std::vector<const boost::json::object*> out;
  for (const auto* r : sim.records("decision"))
    if (r->contains("guard")) out.push_back(r);
  return out;
}

std::size_t guard_windows(const Simulation& sim) {
  std::size_t n = 0;
  for (const auto* r : sim.records("observation")) n += r->contains("guard") && r->at("purpose").as_string() == "remeasure";
  return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_best_is_guarded_after_the_study) {
  const auto policy = guarded_policy();
  const auto study = guarded_study(policy);
  auto& sim = *study;
  BOOST_TEST(sim.loop.guarding());
  const auto before = guard_windows(sim);
  sim.advance(600s);
  // Window after window of the best, every one kept, nothing applied.
  BOOST_TEST(guard_windows(sim) >= before + 40);
  BOOST_TEST(sim.service == at(20));
  for (const auto* r : guard_decisions(sim)) BOOST_TEST(r->at("verdict").as_string() == "keep");
  BOOST_TEST(sim.loop.phase() != LoopPhase::done);
  BOOST_REQUIRE(sim.loop.guard_reference());
  BOOST_TEST(sim.loop.guard_reference()->mean == 1200.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(sim.records("guard").size() == 1u); // the level at the study's end, never changed
}

BOOST_AUTO_TEST_CASE(a_guarded_best_that_regresses_is_rolled_back_to_the_baseline) {
  const auto policy = guarded_policy();
  const auto study = guarded_study(policy);
  auto& sim = *study;
  const auto baseline = sim.space.default_point();
  // Pool 20 now serves less than the default does (a dependency changed under it).
  sim.rate = [](const Point& p) { return p == at(20) ? 800.0 : 1000.0; };
  sim.advance(600s);
  std::vector<std::string> verdicts;
  for (const auto* r : guard_decisions(sim)) verdicts.emplace_back(r->at("verdict").as_string());
  BOOST_TEST(std::count(verdicts.begin(), verdicts.end(), "rollback") == 1);
  BOOST_REQUIRE(sim.loop.incumbent());
  BOOST_TEST(*sim.loop.incumbent() == baseline);
  BOOST_TEST(sim.service == baseline);
  BOOST_TEST(sim.saved_best.back() == baseline);
  // The check ran its three pairs before the rollback, and the baseline is guarded from its level.
  std::size_t guard_pairs = 0;
  for (const auto* r : sim.records("switchback")) guard_pairs += r->contains("guard");
  BOOST_TEST(guard_pairs == 3u);
  BOOST_TEST(point_from_json(sim.space, sim.records("guard").back()->at("point")) == baseline);
  BOOST_TEST(sim.loop.guard_reference()->mean == 1000.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 1u);
  BOOST_TEST(!sim.loop.in_safe_mode());
}

BOOST_AUTO_TEST_CASE(a_service_wide_change_is_not_blamed_on_the_best) {
  const auto policy = guarded_policy();
  const auto study = guarded_study(policy);
  auto& sim = *study;
  // Traffic falls by 30 % for every configuration: the best is still the better one.
  sim.rate = [](const Point& p) { return p == at(20) ? 840.0 : 700.0; };
  sim.advance(600s);
  for (const auto* r : guard_decisions(sim)) BOOST_TEST(r->at("verdict").as_string() == "keep");
  BOOST_TEST(*sim.loop.incumbent() == at(20));
  BOOST_TEST(sim.service == at(20));
  // One check against the baseline, then the guard goes on from the new level.
  std::size_t guard_pairs = 0;
  for (const auto* r : sim.records("switchback")) guard_pairs += r->contains("guard");
  BOOST_TEST(guard_pairs == 3u);
  BOOST_TEST(sim.records("guard").size() == 2u);
  BOOST_TEST(sim.loop.guard_reference()->mean == 840.0, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(a_broken_constraint_is_caught_by_the_guard_in_one_window) {
  auto policy = guarded_policy();
  policy.guard_windows = 5;
  const auto study = guarded_study(policy);
  auto& sim = *study;
  const auto changed = sim.now;
  sim.p99 = [](const Point& p) { return p == at(20) ? 600.0 : 120.0; };
  sim.advance(120s);
  // The first window that breaks p99 starts the check, without waiting for five; one pair in which
  // the best breaks it and the baseline does not is enough to roll back.
  const boost::json::object* rollback = nullptr;
  for (const auto* r : guard_decisions(sim))
    if (r->at("verdict").as_string() == "rollback") rollback = r;
  BOOST_REQUIRE(rollback != nullptr);
  const auto when = TimePoint{} + std::chrono::milliseconds(rollback->at("time").to_number<std::int64_t>());
  BOOST_TEST((when - changed <= 2 * (policy.settle + policy.duration) + 2 * (policy.settle + policy.switchback_duration)));
  BOOST_TEST(*sim.loop.incumbent() == sim.space.default_point());
  BOOST_TEST(sim.service == sim.space.default_point());
}

BOOST_AUTO_TEST_CASE(with_an_infeasible_baseline_the_guard_takes_the_new_level) {
  auto policy = guarded_policy();
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim.rate = [](const Point& p) { return p == at(20) ? 1200.0 : 1000.0; };
  sim.p99 = [](const Point& p) { return p == at(20) ? 120.0 : 900.0; }; // the default breaks p99
  sim.start();
  sim.advance(300s);
  BOOST_REQUIRE_EQUAL(sim.records("done").size(), 1u);
  const auto applies = sim.applied.size();
  sim.rate = [](const Point& p) { return p == at(20) ? 800.0 : 1000.0; };
  sim.advance(300s);
  // Never back to a baseline that broke a constraint: the best stays, guarded from its new level.
  BOOST_TEST(sim.applied.size() == applies);
  BOOST_TEST(*sim.loop.incumbent() == at(20));
  BOOST_TEST(sim.records("guard").size() == 2u);
  BOOST_TEST(sim.loop.guard_reference()->mean == 800.0, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(a_restart_goes_on_guarding_from_the_journaled_level) {
  const auto policy = guarded_policy();
  Simulation first(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  first.rate = [](const Point& p) { return p == at(20) ? 1200.0 : 1000.0; };
  first.start();
  first.advance(400s);
  BOOST_REQUIRE(first.loop.guard_reference());
  Simulation second(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{}));
  second.now = first.now + 10s;
  second.service = first.service;
  second.rate = first.rate;
  second.loop.replay(first.journal);
  second.start();
  BOOST_TEST(second.loop.guarding());
  BOOST_REQUIRE(second.loop.guard_reference());
  BOOST_TEST(second.loop.guard_reference()->mean == first.loop.guard_reference()->mean);
  second.advance(120s);
  BOOST_TEST(guard_windows(second) >= 5u);
  BOOST_TEST(second.records("done").empty()); // the study is not done a second time
  BOOST_TEST(second.records("guard").empty()); // nor its level taken again
}

BOOST_AUTO_TEST_CASE(without_the_guard_a_finished_study_measures_nothing_more) {
  auto policy = guarded_policy();
  policy.guard_after_study = false;
  Simulation sim(policy, std::make_unique<ScriptedSolver>(service_space(), policy.direction, std::vector<Point>{at(20)}));
  sim.rate = [](const Point& p) { return p == at(20) ? 1200.0 : 1000.0; };
  sim.start();
  sim.advance(300s);
  const auto observations = sim.records("observation").size();
  sim.advance(300s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  BOOST_TEST(sim.records("observation").size() == observations);
}

BOOST_AUTO_TEST_SUITE_END()

