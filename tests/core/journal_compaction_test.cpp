// Compaction keeps what a restart needs: a journal of hours of guarding, compacted, replays to the
// same state as the whole of it.

#include "loop_simulation.hpp"

#include <trimtab/core/journal_compaction.hpp>

using namespace trimtab;
using namespace trimtab::loop_test;
using namespace std::chrono_literals;

namespace {

TuningPolicy guarding_policy() {
  auto policy = service_policy();
  policy.guard_after_study = true;
  policy.budget = 8;
  policy.final_confirmation_pairs = 3;
  policy.switchback_duration = 5s;
  policy.remeasure_every = 3;
  return policy;
}

std::size_t index_of_done(const std::vector<boost::json::object>& records) {
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i].at("type").as_string() == "done") return i;
  return records.size();
}

// Two loops replayed from `a` and `b` and started on `running` agree on everything replay restores.
void check_same_state(const TuningPolicy& policy, const Space& space, const std::vector<boost::json::object>& a,
                      const std::vector<boost::json::object>& b, const Point& running, TimePoint now) {
  TuningLoop first(make_solver("bayes", space, SolverOptions{policy.direction, 7}), policy);
  TuningLoop second(make_solver("bayes", space, SolverOptions{policy.direction, 7}), policy);
  first.replay(a);
  second.replay(b);
  const auto first_actions = first.start(now, running);
  const auto second_actions = second.start(now, running);
  BOOST_REQUIRE(first.incumbent() && second.incumbent());
  BOOST_TEST(*first.incumbent() == *second.incumbent());
  BOOST_TEST(*first.incumbent_value() == *second.incumbent_value());
  BOOST_TEST(first.guarding() == second.guarding());
  BOOST_REQUIRE(first.guard_reference() && second.guard_reference());
  BOOST_TEST(first.guard_reference()->mean == second.guard_reference()->mean);
  BOOST_TEST(first.guard_reference()->windows == second.guard_reference()->windows);
  BOOST_TEST(first.claim().has_value() == second.claim().has_value());
  if (first.claim()) BOOST_TEST(boost::json::serialize(encode_record(*first.claim())) == boost::json::serialize(encode_record(*second.claim())));
  BOOST_TEST(first.guardrails().rollbacks_in_last_hour(now) == second.guardrails().rollbacks_in_last_hour(now));
  BOOST_TEST(first.paused() == second.paused());
  BOOST_TEST(first.in_safe_mode() == second.in_safe_mode());
  BOOST_TEST(first.windows_scored() == second.windows_scored());
  BOOST_TEST(first.evidence().pooled(*first.incumbent()).mean == second.evidence().pooled(*second.incumbent()).mean);
  BOOST_TEST(first.phase() == second.phase());
  BOOST_TEST(first_actions.size() == second_actions.size());
}

} // namespace

BOOST_AUTO_TEST_SUITE(journal_compaction)

BOOST_AUTO_TEST_CASE(hours_of_guarding_compact_to_what_a_restart_needs) {
  const auto policy = guarding_policy();
  Simulation sim(policy);
  sim.start();
  sim.advance(1200s);
  BOOST_REQUIRE(!sim.records("done").empty());
  const auto best = *sim.loop.incumbent();
  // Hours of guarding; then the best regresses and the guard rolls back to the baseline; then more.
  sim.advance(4h);
  // The study must have left the default, or the regression below would test nothing.
  BOOST_REQUIRE(best != sim.space.default_point());
  const auto steady = sim.rate;
  sim.rate = [steady, best](const Point& p) { return p == best ? 0.7 * steady(p) : steady(p); };
  sim.advance(30min);
  // Still better than the default: the guard checks it, keeps it and takes its new level.
  BOOST_REQUIRE(sim.records("guard").size() == 2u);
  sim.run(sim.loop.on_command(sim.now, OperatorCommand::pause, "test").actions); // a pause outlives compaction too

  const auto& full = sim.journal;
  const auto compacted = compact_journal(full);
  BOOST_TEST_MESSAGE(full.size() << " records compact to " << compacted.size());
  BOOST_TEST(full.size() > 3000u);
  BOOST_TEST(compacted.size() < 400u);
  BOOST_TEST(compacted.front().at("type").as_string() == "compacted");
  BOOST_TEST(compacted.front().at("seq").as_int64() == 0);
  BOOST_TEST(compacted.front().at("kept").to_number<std::size_t>() + 1 == compacted.size());
  for (std::size_t i = 1; i < compacted.size(); ++i)
    BOOST_TEST(compacted[i].at("seq").to_number<std::int64_t>() > compacted[i - 1].at("seq").to_number<std::int64_t>());
  // The study itself is kept whole, up to its done record.
  const auto done = index_of_done(full);
  std::size_t study_records = 0;
  for (const auto& r : compacted) study_records += r.at("seq").to_number<std::int64_t>() >= 1 && r.at("seq").to_number<std::int64_t>() <= full[done].at("seq").to_number<std::int64_t>();
  BOOST_TEST(study_records == done + 1);

  check_same_state(policy, sim.space, full, compacted, sim.service, sim.now + 5s);
  // Compacting again changes nothing but the leading record.
  const auto again = compact_journal(compacted);
  BOOST_TEST(again.size() == compacted.size());
}

BOOST_AUTO_TEST_CASE(a_guard_rollback_of_the_last_hour_stays_in_the_rollback_budget) {
  auto policy = guarding_policy();
  Simulation sim(policy);
  sim.start();
  sim.advance(1200s);
  BOOST_REQUIRE(!sim.records("done").empty());
  const auto best = *sim.loop.incumbent();
  BOOST_REQUIRE(best != sim.space.default_point());
  sim.advance(2h);
  const auto steady = sim.rate;
  sim.rate = [steady, best](const Point& p) { return p == best ? 0.6 * steady(p) : steady(p); };
  sim.advance(15min);
  BOOST_REQUIRE(*sim.loop.incumbent() == sim.space.default_point());
  BOOST_REQUIRE(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 1u);
  const auto compacted = compact_journal(sim.journal);
  check_same_state(policy, sim.space, sim.journal, compacted, sim.service, sim.now + 1s);
  // Three hours later that rollback is out of the budget's hour, and compaction lets it go.
  sim.advance(3h);
  const auto later = compact_journal(sim.journal);
  std::size_t rollbacks = 0;
  for (std::size_t i = index_of_done(later); i < later.size(); ++i)
    rollbacks += later[i].at("type").as_string() == "decision" && later[i].at("verdict").as_string() == "rollback";
  BOOST_TEST(rollbacks == 0u);
  check_same_state(policy, sim.space, sim.journal, later, sim.service, sim.now + 1s);
}

BOOST_AUTO_TEST_CASE(a_study_in_recommend_mode_keeps_its_last_windows_and_recommendation) {
  auto policy = guarding_policy();
  policy.mode = TuningMode::recommend;
  Simulation sim(policy);
  sim.start();
  sim.advance(3h);
  const auto compacted = compact_journal(sim.journal);
  BOOST_TEST(sim.journal.size() > 2000u);
  BOOST_TEST(compacted.size() < 100u);
  std::size_t recommendations = 0, windows = 0;
  for (const auto& r : compacted) {
    recommendations += r.at("type").as_string() == "recommendation";
    windows += r.at("type").as_string() == "observation";
  }
  BOOST_TEST(recommendations == 1u);
  BOOST_TEST(windows <= 7u); // the baseline and the last six of the running configuration
}

BOOST_AUTO_TEST_CASE(a_study_that_remeasured_one_configuration_often_keeps_every_window_of_it) {
  // Eight re-measurements of one configuration inside the study, then eight more after it: the
  // study is kept whole, and only what follows it is cut to the last windows_per_config (6).
  std::vector<boost::json::object> journal;
  const boost::json::object point{{"pool", 8}};
  auto add = [&](boost::json::object r) {
    r["seq"] = journal.size() + 1;
    r["time"] = 1000 * (journal.size() + 1);
    journal.push_back(std::move(r));
  };
  add({{"type", "start"}});
  for (int w = 0; w < 8; ++w) {
    add({{"type", "observation"}, {"purpose", "remeasure"}, {"point", point}, {"value", 1.0 + w}});
    add({{"type", "decision"}, {"verdict", "keep"}, {"point", point}});
  }
  add({{"type", "done"}});
  const auto study = journal.size();
  for (int w = 0; w < 8; ++w) add({{"type", "observation"}, {"purpose", "remeasure"}, {"point", point}, {"value", 2.0}});

  const auto compacted = compact_journal(journal);
  std::size_t study_kept = 0, later_windows = 0;
  for (const auto& r : compacted) {
    const auto seq = r.at("seq").to_number<std::size_t>();
    if (seq >= 1 && seq <= study) ++study_kept;
    if (seq > study && r.at("type").as_string() == "observation") ++later_windows;
  }
  BOOST_TEST(study_kept == study);
  BOOST_TEST(later_windows == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
