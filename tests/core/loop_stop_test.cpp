#include "loop_simulation.hpp"

#include <boost/test/unit_test.hpp>

using namespace trimtab;
using namespace trimtab::loop_test;
using namespace std::chrono_literals;

namespace {

// Started, the baseline measured and the first candidate applied: the service runs a candidate
// and the incumbent is the baseline.
Simulation mid_candidate(TuningPolicy policy) {
  policy.budget = 100;
  Simulation sim(std::move(policy));
  sim.start();
  for (int second = 0; second < 60 && !(sim.loop.incumbent() && sim.service != *sim.loop.incumbent()); ++second)
    sim.advance(1s);
  BOOST_REQUIRE(sim.loop.incumbent());
  BOOST_REQUIRE(sim.service != *sim.loop.incumbent());
  return sim;
}

std::string last_type(const Simulation& sim) { return std::string(sim.journal.back().at("type").as_string()); }

} // namespace

BOOST_AUTO_TEST_SUITE(loop_stop)

BOOST_AUTO_TEST_CASE(stopping_restores_the_last_known_good_journal_first_and_ends_the_loop) {
  auto sim = mid_candidate(service_policy());
  const auto journaled = sim.journal.size();
  sim.run(sim.loop.on_stop(StopTarget::last_known_good));
  BOOST_TEST(sim.service == *sim.loop.incumbent());
  BOOST_TEST((sim.applied.back().purpose == Purpose::restore));
  BOOST_REQUIRE(sim.journal.size() == journaled + 2);
  BOOST_TEST(sim.journal[journaled].at("type").as_string() == "apply");
  BOOST_TEST(sim.journal[journaled].at("purpose").as_string() == "restore");
  BOOST_TEST(last_type(sim) == "applied");
  BOOST_TEST(sim.loop.phase() == LoopPhase::stopped);

  // Nothing happens after: no window, no apply, no command.
  const auto applies = sim.applied.size();
  sim.advance(120s);
  BOOST_TEST(sim.applied.size() == applies);
  BOOST_TEST(sim.journal.size() == journaled + 2);
  BOOST_TEST(!sim.loop.on_command(sim.now, OperatorCommand::rollback, "test").ok);
  BOOST_TEST(sim.loop.on_stop(StopTarget::baseline).empty());
}

BOOST_AUTO_TEST_CASE(stopping_at_the_baseline_goes_there_in_one_step_past_max_delta) {
  auto policy = service_policy();
  Simulation sim(policy);
  sim.start();
  sim.advance(600s);
  BOOST_REQUIRE(sim.loop.phase() == LoopPhase::done);
  BOOST_REQUIRE(*sim.loop.incumbent() != sim.space.default_point());
  const auto applies = sim.applied.size();
  sim.run(sim.loop.on_stop(StopTarget::baseline));
  BOOST_TEST(sim.service == sim.space.default_point());
  BOOST_TEST(sim.applied.size() == applies + 1);
}

BOOST_AUTO_TEST_CASE(leave_applies_nothing) {
  auto sim = mid_candidate(service_policy());
  const auto running = sim.service;
  const auto journaled = sim.journal.size();
  sim.run(sim.loop.on_stop(StopTarget::leave));
  BOOST_TEST(sim.service == running);
  BOOST_TEST(sim.journal.size() == journaled);
  BOOST_TEST(sim.loop.phase() == LoopPhase::stopped);
}

// Each case below stops where the target differs from what runs, so only the rule under test
// keeps the service where it is.
BOOST_AUTO_TEST_CASE(a_pause_is_obeyed_at_stop) {
  auto sim = mid_candidate(service_policy());
  sim.run(sim.loop.on_command(sim.now, OperatorCommand::pause, "test").actions);
  const auto running = sim.service;
  BOOST_REQUIRE(running != *sim.loop.incumbent());
  sim.run(sim.loop.on_stop(StopTarget::last_known_good));
  BOOST_TEST(sim.service == running);
}

BOOST_AUTO_TEST_CASE(recommend_mode_is_obeyed_at_stop) {
  Simulation sim(service_policy());
  sim.start();
  sim.advance(600s);
  BOOST_REQUIRE(sim.service != sim.space.default_point()); // the study moved off its baseline
  sim.run(sim.loop.on_command(sim.now, OperatorCommand::recommend, "test").actions);
  sim.advance(60s);
  const auto running = sim.service;
  const auto applies = sim.applied.size();
  sim.run(sim.loop.on_stop(StopTarget::baseline));
  BOOST_TEST(sim.applied.size() == applies);
  BOOST_TEST(sim.service == running);
}

// The kill switch set across a restart: the journal names a last known good configuration the
// service does not run, and the stop must not apply it.
BOOST_AUTO_TEST_CASE(the_kill_switch_is_obeyed_at_stop) {
  Simulation first(service_policy());
  first.start();
  first.advance(600s);
  BOOST_REQUIRE(*first.loop.incumbent() != first.space.default_point());

  auto disabled = service_policy();
  disabled.enabled = false;
  Simulation second(disabled);
  second.now = first.now + 5s;
  second.loop.replay(first.journal);
  second.start(); // the service runs its default, the baseline
  second.advance(30s);
  BOOST_REQUIRE(second.service != *second.loop.incumbent());
  second.run(second.loop.on_stop(StopTarget::last_known_good));
  BOOST_TEST(second.applied.empty());
}

// A failed restore is journaled and not retried: the agent is going away.
BOOST_AUTO_TEST_CASE(a_restore_that_fails_at_stop_is_journaled_once) {
  auto sim = mid_candidate(service_policy());
  sim.apply_error = [](const Point&) { return std::optional<std::string>("adapter 'app': HTTP 503"); };
  const auto running = sim.service;
  sim.run(sim.loop.on_stop(StopTarget::last_known_good));
  BOOST_TEST(sim.service == running);
  BOOST_TEST(last_type(sim) == "apply_failed");
  BOOST_TEST(sim.journal.back().at("error").as_string() == "adapter 'app': HTTP 503");
  BOOST_TEST(sim.count("apply_failed") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
