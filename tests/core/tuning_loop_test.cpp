#include "loop_simulation.hpp"

#include <boost/test/unit_test.hpp>

using namespace trimtab;
using namespace trimtab::loop_test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(tuning_loop)

BOOST_AUTO_TEST_CASE(welch_test_matches_hand_computed_values) {
  const std::vector<double> a{10, 12, 11, 13, 9}, b{14, 15, 13, 16, 15};
  const auto sa = summarize(a), sb = summarize(b);
  BOOST_TEST(sa.mean == 11.0);
  BOOST_TEST(sa.variance == 2.5);
  BOOST_TEST(sb.mean == 14.6);
  BOOST_TEST(sb.variance == 1.3, boost::test_tools::tolerance(1e-12));
  const auto t = welch_t_test(sa, sb);
  BOOST_REQUIRE(t);
  // t = 3.6 / sqrt(0.5 + 0.26); dof = 0.76^2 / (0.25/4 + 0.0676/4)
  BOOST_TEST(t->t == 3.6 / std::sqrt(0.76), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(t->degrees_of_freedom == 0.5776 / (0.3176 / 4), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(t->p_greater < 0.005);
  BOOST_TEST(t->p_greater > 0.001);
  BOOST_TEST(!welch_t_test(summarize(std::vector<double>{1.0}), sb));
}

BOOST_AUTO_TEST_CASE(measures_the_baseline_then_improves_it_within_guardrails) {
  const auto policy = service_policy();
  Simulation sim(policy);
  sim.start();
  BOOST_TEST(sim.count("start") == 1u);
  BOOST_TEST(sim.applied.empty()); // the baseline is measured where it stands
  sim.advance(600s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  BOOST_REQUIRE(sim.loop.incumbent());
  BOOST_TEST(sim.loop.windows_scored() == policy.budget);
  const double baseline = sim.rate(sim.space.default_point());
  const double best = sim.rate(*sim.loop.incumbent());
  BOOST_TEST(best > baseline * 1.2, "baseline " << baseline << ", best " << best);
  BOOST_TEST(sim.count("decision", "verdict", "promote") >= 1u);
  BOOST_TEST(sim.count("done") == 1u);
  BOOST_TEST(sim.service == *sim.loop.incumbent()); // it ends on the incumbent
  BOOST_TEST(!sim.saved_best.empty());
  check_every_step_within_guardrails(sim, policy);
  // The journal's sequence is gap-free and every apply is announced before it is confirmed.
  std::size_t announced = 0;
  for (const auto& r : sim.journal) {
    if (r.at("type").as_string() == "apply") ++announced;
    if (r.at("type").as_string() == "applied") BOOST_TEST(announced-- == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_window_that_breaks_a_constraint_is_rolled_back_at_once) {
  auto policy = service_policy();
  policy.guardrails.max_delta = {Amount{100.0, true}, Amount{100.0, true}};
  Simulation sim(policy, "grid");
  sim.p99 = [](const Point& p) { return as_int(p, 0) != 8 ? 900.0 : 120.0; }; // every change breaks the limit
  sim.start();
  sim.advance(30s);
  BOOST_REQUIRE(!sim.applied.empty());
  const auto first = sim.applied.front();
  BOOST_TEST((first.purpose == Purpose::candidate));
  // The decision comes at the end of the candidate's window, and the rollback right after it.
  sim.advance(20s);
  BOOST_REQUIRE(sim.applied.size() >= 2u);
  BOOST_TEST(as_int(first.point, 0) != 8); // the grid's first step changes pool
  {
    BOOST_TEST((sim.applied[1].purpose == Purpose::rollback));
    BOOST_TEST(sim.applied[1].point == *sim.loop.incumbent());
    const auto window = policy.settle + policy.duration;
    BOOST_TEST((sim.applied[1].at - first.at <= window + 1s));
    BOOST_TEST(sim.count("decision", "verdict", "rollback") >= 1u);
  }
}

BOOST_AUTO_TEST_CASE(the_rollback_budget_puts_the_loop_in_safe_mode_until_it_recovers) {
  auto policy = service_policy();
  policy.guardrails.max_rollbacks_per_hour = 2;
  policy.safe_mode_recovery = 10min;
  policy.budget = 100;
  Simulation sim(policy, "random");
  sim.p99 = [](const Point& p) { return as_int(p, 0) == 8 && as_int(p, 1) == 4 ? 120.0 : 900.0; };
  sim.start();
  sim.advance(200s);
  BOOST_TEST(sim.loop.in_safe_mode());
  BOOST_TEST(sim.count("decision", "verdict", "rollback") == 3u);
  BOOST_TEST(sim.count("safe_mode") == 1u);
  BOOST_TEST(sim.service == sim.space.default_point()); // back on the known good configuration
  const auto applies = sim.applied.size();
  sim.advance(5min);
  BOOST_TEST(sim.applied.size() == applies); // nothing while in safe mode
  sim.advance(10min);
  BOOST_TEST(sim.count("safe_mode") >= 2u); // left by itself after the recovery time
  BOOST_TEST(!sim.records("safe_mode")[1]->at("entered").as_bool());
}

BOOST_AUTO_TEST_CASE(the_kill_switch_measures_but_never_applies) {
  auto policy = service_policy();
  policy.enabled = false;
  Simulation sim(policy);
  sim.start();
  sim.advance(300s);
  BOOST_TEST(sim.applied.empty());
  BOOST_TEST(sim.loop.phase() == LoopPhase::disabled);
  BOOST_TEST(sim.count("refusal", "reason", "disabled") == 1u);
  BOOST_TEST(sim.count("observation") == 1u); // the baseline was measured
  const auto outcome = sim.loop.on_command(sim.now, OperatorCommand::rollback, "test");
  BOOST_TEST(!outcome.ok);
}

BOOST_AUTO_TEST_CASE(pause_holds_everything_until_resume_and_rollback_returns_to_the_incumbent) {
  auto policy = service_policy();
  policy.budget = 100;
  Simulation sim(policy);
  sim.start();
  sim.advance(20s); // baseline scored, first candidate applied
  BOOST_REQUIRE(!sim.applied.empty());
  auto outcome = sim.loop.on_command(sim.now, OperatorCommand::pause, "test");
  sim.run(std::move(outcome.actions));
  BOOST_TEST(outcome.ok);
  BOOST_TEST(sim.loop.phase() == LoopPhase::paused);
  const auto applies = sim.applied.size();
  sim.advance(120s);
  BOOST_TEST(sim.applied.size() == applies);

  outcome = sim.loop.on_command(sim.now, OperatorCommand::rollback, "test");
  sim.run(std::move(outcome.actions));
  BOOST_TEST(outcome.ok);
  BOOST_TEST(sim.service == *sim.loop.incumbent());
  BOOST_TEST((sim.applied.back().purpose == Purpose::rollback));
  BOOST_TEST(sim.loop.phase() == LoopPhase::paused);

  outcome = sim.loop.on_command(sim.now, OperatorCommand::resume, "test");
  sim.run(std::move(outcome.actions));
  sim.advance(60s);
  BOOST_TEST(sim.applied.size() > applies + 1);
  BOOST_TEST(sim.count("operator") == 3u);
  // An operator rollback is not charged to the rollback budget.
  BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == sim.count("decision", "verdict", "rollback"));
}

// The study's final check and the guard measure switchback windows too, not only switchback_pairs.
BOOST_AUTO_TEST_CASE(switchback_windows_of_no_length_are_refused_wherever_they_are_used) {
  auto policy = service_policy();
  policy.switchback_pairs = 0;
  policy.final_confirmation_pairs = 3;
  policy.switchback_duration = 0ms;
  BOOST_CHECK_THROW(Simulation{policy}, std::invalid_argument);
  policy.final_confirmation_pairs = 0;
  policy.guard_after_study = true;
  BOOST_CHECK_THROW(Simulation{policy}, std::invalid_argument);
  policy.guard_after_study = false;
  BOOST_CHECK_NO_THROW(Simulation{policy}); // nothing measures one
  BOOST_TEST(default_switchback_duration(1ms).count() == 1);
}

// The failure that spends max_apply_failures parks the loop in safe mode at once: a failed
// candidate has nothing to retry, so /status must not say "waiting" for the backoff first.
BOOST_AUTO_TEST_CASE(failed_applies_are_dropped_and_repeated_failures_mean_safe_mode_at_once) {
  auto policy = service_policy();
  policy.budget = 100;
  Simulation sim(policy);
  sim.apply_error = [](const Point&) { return std::optional<std::string>("adapter 'app': connection refused"); };
  sim.start();
  for (int second = 0; second < 120 && sim.count("apply_failed") < 3; ++second) sim.advance(1s);
  BOOST_REQUIRE(sim.count("apply_failed") == 3u);
  BOOST_TEST(sim.loop.in_safe_mode());
  BOOST_TEST(sim.loop.phase() == LoopPhase::safe_mode);
  sim.advance(60s);
  BOOST_TEST(sim.count("apply_failed") == 3u);
  BOOST_TEST(sim.loop.in_safe_mode());
  BOOST_TEST(sim.applied.empty());
  BOOST_TEST(sim.service == sim.space.default_point());
  BOOST_TEST(sim.records("safe_mode").front()->at("reason").as_string().find("connection refused") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_slow_update_rate_defers_applies_and_says_so) {
  auto policy = service_policy();
  policy.guardrails.max_updates_per_second = 1.0 / 60.0;
  policy.budget = 4;
  Simulation sim(policy);
  sim.start();
  sim.advance(900s);
  BOOST_TEST(sim.count("refusal", "reason", "rate_limit") >= 1u);
  for (std::size_t i = 1; i < sim.applied.size(); ++i)
    BOOST_TEST((sim.applied[i].at - sim.applied[i - 1].at >= 60s));
}

BOOST_AUTO_TEST_CASE(a_window_under_different_load_is_discarded_and_the_incumbent_measured_again) {
  auto policy = service_policy();
  policy.load_signal = "rps";
  policy.load_band = 0.3;
  policy.budget = 100;
  Simulation sim(policy);
  sim.start();
  sim.advance(13s); // the baseline window is over
  BOOST_REQUIRE(sim.loop.incumbent());
  const auto normal = sim.rate;
  sim.rate = [normal](const Point& p) { return normal(p) * 3; }; // traffic triples
  // The first candidate (pool 2) breaks p99 as well: rolled back whatever the load did. The next,
  // which meets every constraint, is discarded.
  sim.advance(22s);
  BOOST_TEST(sim.count("decision", "verdict", "discard") >= 1u);
  BOOST_TEST(sim.records("decision").back()->at("reason").as_string().find("load moved") != std::string::npos);
  sim.advance(15s);
  BOOST_TEST(sim.count("observation") >= 2u);
  BOOST_TEST(sim.records("observation").back()->at("purpose").as_string() == "remeasure");
}

BOOST_AUTO_TEST_CASE(thrashing_parameters_are_held) {
  const auto space = service_space();
  GuardrailPolicy policy;
  policy.max_delta = {Amount{4.0, false}, std::nullopt};
  policy.max_direction_flips = 2;
  Guardrails guardrails(space, policy);
  auto point = [](std::int64_t pool) { return Point{{Value{pool}, Value{std::int64_t{4}}}}; };
  const auto t = TimePoint{};
  guardrails.record_apply(point(8), point(10), t, Purpose::candidate);
  guardrails.record_apply(point(10), point(8), t + 1s, Purpose::candidate);
  guardrails.record_apply(point(8), point(12), t + 1s, Purpose::rollback); // rollbacks reverse by design
  auto box = guardrails.candidate_box(point(8), point(8));
  BOOST_TEST(box.limits[0].lower == 4.0);
  guardrails.record_apply(point(8), point(11), t + 2s, Purpose::candidate); // up, down, up: two flips
  box = guardrails.candidate_box(point(11), point(8));
  BOOST_TEST(box.limits[0].lower == 11.0);
  BOOST_TEST(box.limits[0].upper == 11.0);
  BOOST_TEST(std::isinf(box.limits[1].upper)); // the other knob is free
  // Held for one step, then free again.
  guardrails.record_apply(point(11), point(11), t + 3s, Purpose::candidate);
  box = guardrails.candidate_box(point(11), point(8));
  BOOST_TEST(box.limits[0].lower == 7.0);
  // A percentage is of the larger end, so a step and its reverse are both allowed.
  GuardrailPolicy relative;
  relative.max_delta = {Amount{50.0, true}, std::nullopt};
  Guardrails by_percent(space, relative);
  BOOST_TEST(!by_percent.check_step(point(10), point(5)).has_value());
  BOOST_TEST(!by_percent.check_step(point(5), point(10)).has_value());
  BOOST_TEST(by_percent.check_step(point(5), point(11)).has_value());
  // Steps further than max_delta are refused; a step toward a far target stops at the limit.
  BOOST_TEST(guardrails.check_step(point(8), point(13)).value().reason == "max_delta");
  BOOST_TEST(!guardrails.check_step(point(8), point(12)).has_value());
  BOOST_TEST(as_int(guardrails.step_toward(point(30), point(8)), 0) == 26);
}

BOOST_AUTO_TEST_CASE(a_percentage_max_delta_lets_a_float_leave_zero_and_return_to_it) {
  // 10 % of 0 is 0: taken literally, a float at 0 could never move, nor one elsewhere reach 0.
  const Space space({Param{"prefetch", FloatRange{0.0, 2.0, false}, Value{0.0}, std::nullopt}});
  GuardrailPolicy policy;
  policy.max_delta = {Amount{10.0, true}};
  Guardrails guardrails(space, policy);
  auto at = [](double v) { return Point{{Value{v}}}; };
  auto value = [](const Point& p) { return std::get<double>(p.values.at(0)); };
  // Around 0 the percentage is of 1 % of the range's width: 10 % of 0.02.
  BOOST_TEST(value(guardrails.step_toward(at(0.0), at(1.0))) == 0.002, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(!guardrails.check_step(at(0.0), at(0.002)).has_value());
  BOOST_TEST(!guardrails.check_step(at(0.002), at(0.0)).has_value());
  BOOST_TEST(guardrails.check_step(at(0.0), at(0.003)).value().reason == "max_delta");
  // Away from 0 the percentage is of the value, as before.
  BOOST_TEST(value(guardrails.step_toward(at(1.0), at(2.0))) == 1.1, boost::test_tools::tolerance(1e-12));
  // Step by step, a float gets from 0 to 1 and back.
  Point point = at(0.0);
  int steps = 0;
  while (value(point) < 1.0 && steps < 1000) point = guardrails.step_toward(point, at(1.0)), ++steps;
  BOOST_TEST(value(point) == 1.0);
  while (value(point) > 0.0 && steps < 2000) point = guardrails.step_toward(point, at(0.0)), ++steps;
  BOOST_TEST(value(point) == 0.0);
}

// Four minutes of a study with room for 100 windows: long enough to promote, and to journal every
// kind of record a restart reads.
TuningPolicy restartable_policy() {
  auto policy = service_policy();
  policy.budget = 100;
  return policy;
}

void run_four_minutes(Simulation& sim) {
  sim.start();
  sim.advance(240s);
  BOOST_REQUIRE(sim.loop.incumbent());
}

BOOST_AUTO_TEST_CASE(a_restart_replays_the_journal_and_restores_the_last_known_good_configuration) {
  const auto policy = restartable_policy();
  Simulation first(policy);
  run_four_minutes(first);
  BOOST_REQUIRE(first.count("decision", "verdict", "promote") >= 1u);
  const auto incumbent = *first.loop.incumbent();
  const auto history = first.loop.solver().history().size();

  Simulation second(policy);
  second.now = first.now + 5s;
  second.counter = first.counter;
  second.service = first.service; // whatever the service runs when the agent comes back
  second.loop.replay(first.journal);
  BOOST_TEST(second.loop.solver().history().size() == history);
  BOOST_TEST(second.loop.windows_scored() == first.loop.windows_scored());
  second.start();
  second.advance(1s);
  BOOST_TEST(second.service == incumbent);
  BOOST_TEST(second.records("start").front()->at("resumed").as_bool());
  second.advance(60s);
  BOOST_TEST(second.count("observation", "purpose", "remeasure") >= 1u);
}

BOOST_AUTO_TEST_CASE(a_replay_record_by_record_restores_what_a_whole_replay_does_and_a_refusal_seeds_nothing) {
  const auto policy = restartable_policy();
  Simulation first(policy);
  run_four_minutes(first);

  Simulation whole(policy), streamed(policy);
  whole.loop.replay(first.journal);
  auto replay = streamed.loop.begin_replay();
  for (const auto& record : first.journal) streamed.loop.replay_record(replay, record);
  BOOST_TEST(streamed.loop.solver().history().empty()); // seeded only by finish_replay()
  streamed.loop.finish_replay(std::move(replay));
  BOOST_TEST(streamed.loop.solver().history().size() == whole.loop.solver().history().size());
  BOOST_TEST((streamed.loop.incumbent() == whole.loop.incumbent()));
  BOOST_TEST(streamed.loop.windows_scored() == whole.loop.windows_scored());

  // A record that does not fit, after good ones: replay_record throws, and the solver was not told
  // the windows before it.
  Simulation refused(policy);
  auto partial = refused.loop.begin_replay();
  for (std::size_t i = 0; i < first.journal.size() / 2; ++i) refused.loop.replay_record(partial, first.journal[i]);
  const boost::json::object bad{{"seq", 999999}, {"time", 1}, {"type", "observation"}, {"purpose", "candidate"},
                                {"point", {{"pool", 8}, {"batch", 99}}}, {"value", 1.0}, {"constraints", boost::json::array{}}};
  BOOST_CHECK_THROW(refused.loop.replay_record(partial, bad), std::invalid_argument);
  BOOST_TEST(refused.loop.solver().history().empty());
}

BOOST_AUTO_TEST_CASE(replay_names_the_record_that_does_not_fit) {
  Simulation sim(service_policy());
  std::vector<boost::json::object> records{
      {{"seq", 1}, {"time", 1}, {"type", "incumbent"}, {"point", {{"pool", 8}, {"batch", 99}}}, {"value", 1.0}, {"samples_count", 3}}};
  try {
    sim.loop.replay(records);
    BOOST_FAIL("no error");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("journal record 1") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("journal record 1: point: ") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("batch") != std::string::npos);
  }
}

// --- recommend mode ---------------------------------------------------------------------------

// Observation records of an earlier run (or offline results) for `point`, `n` windows near `value`.
std::vector<boost::json::object> earlier_windows(const Space& space, const Point& point, double value, int n,
                                                 std::int64_t first_seq) {
  std::vector<boost::json::object> records;
  for (int i = 0; i < n; ++i)
    records.push_back({{"seq", first_seq + i},
                       {"time", 1'600'000'000'000 + first_seq + i},
                       {"type", "observation"},
                       {"purpose", "candidate"},
                       {"point", point_to_json(space, point)},
                       {"value", value + (i % 2 == 0 ? 5.0 : -5.0)},
                       {"constraints", boost::json::array{-130.0}}});
  return records;
}

BOOST_AUTO_TEST_CASE(recommend_mode_applies_nothing_and_recommends_from_seeded_history_with_evidence) {
  auto policy = service_policy();
  policy.mode = TuningMode::recommend;
  Simulation sim(policy);
  const Point better{{Value{std::int64_t{16}}, Value{std::int64_t{8}}}};
  sim.loop.replay(earlier_windows(sim.space, better, sim.rate(better), 3, 1));
  sim.start();
  sim.advance(300s);
  BOOST_TEST(sim.applied.empty());
  BOOST_TEST(sim.loop.mode() == TuningMode::recommend);
  BOOST_TEST(sim.records("start").front()->at("mode").as_string() == "recommend");
  // The running configuration is measured window after window, and each window renews the advice.
  BOOST_TEST(sim.count("observation") >= 10u);
  BOOST_TEST(sim.count("proposal") == 0u);
  const auto recommendations = sim.records("recommendation");
  BOOST_REQUIRE(recommendations.size() >= 10u);
  const auto& last = *recommendations.back();
  BOOST_TEST(point_from_json(sim.space, last.at("point")) == better);
  BOOST_TEST(last.at("windows").as_uint64() == 3u);
  BOOST_TEST(last.at("running_windows").as_uint64() >= 10u);
  const double expected = sim.rate(better) / sim.rate(sim.space.default_point()) - 1.0;
  BOOST_TEST(last.at("effect").as_double() == expected, boost::test_tools::tolerance(0.05));
  BOOST_TEST(last.at("confidence").as_double() > 0.99);
  BOOST_REQUIRE(sim.loop.recommendation());
  BOOST_TEST(sim.loop.recommendation()->reason.value_or("").starts_with("better by"));
  // The first advice, after the baseline's one window, has no confidence yet and says why.
  BOOST_TEST(recommendations.front()->at("confidence").is_null());
}

BOOST_AUTO_TEST_CASE(switching_to_recommend_mid_candidate_rolls_back_once_then_applies_nothing_until_apply) {
  auto policy = service_policy();
  policy.budget = 100;
  Simulation sim(policy);
  sim.start();
  sim.advance(17s); // baseline scored; the first candidate applied and settling or observing
  BOOST_REQUIRE(sim.applied.size() == 1u);
  BOOST_REQUIRE((sim.applied.back().purpose == Purpose::candidate));
  auto outcome = sim.loop.on_command(sim.now, OperatorCommand::recommend, "test");
  BOOST_TEST(outcome.ok);
  sim.run(std::move(outcome.actions));
  BOOST_TEST(sim.count("mode", "mode", "recommend") == 1u);
  BOOST_REQUIRE(sim.applied.size() == 2u);
  BOOST_TEST((sim.applied.back().purpose == Purpose::rollback));
  BOOST_TEST(sim.service == sim.space.default_point());
  sim.advance(200s);
  BOOST_TEST(sim.applied.size() == 2u); // nothing more
  BOOST_TEST(sim.count("recommendation") >= 5u);
  BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 0u); // an operator's switch, not a regression

  outcome = sim.loop.on_command(sim.now, OperatorCommand::apply, "test");
  sim.run(std::move(outcome.actions));
  BOOST_TEST(sim.count("mode", "mode", "apply") == 1u);
  sim.advance(60s);
  BOOST_TEST(sim.applied.size() > 2u);
  BOOST_TEST((sim.applied[2].purpose == Purpose::candidate));

  // A restart keeps the operator's last word while the configured mode is unchanged…
  Simulation again(policy);
  again.loop.replay(sim.journal);
  BOOST_TEST(again.loop.mode() == TuningMode::apply);
  auto journal = sim.journal;
  journal.push_back({{"seq", journal.size() + 1}, {"time", 1}, {"type", "mode"}, {"mode", "recommend"}, {"source", "t"}});
  Simulation kept(policy);
  kept.loop.replay(journal);
  BOOST_TEST(kept.loop.mode() == TuningMode::recommend);
  // …and yields to the file once the configured mode changed.
  auto recommending = policy;
  recommending.mode = TuningMode::recommend;
  journal.back()["mode"] = "apply";
  Simulation edited(recommending);
  edited.loop.replay(journal);
  BOOST_TEST(edited.loop.mode() == TuningMode::recommend);
}

// The commands that come while an apply is in flight. `sim` holds its applies: the first
// candidate's stays in flight until the test lands it.
struct CandidateInFlight {
  explicit CandidateInFlight(TuningPolicy policy) : sim(policy) {
    sim.hold_applies = true;
    sim.start();
    sim.advance(17s); // the baseline scored, the first candidate's apply under way
    BOOST_REQUIRE(sim.in_flight);
    BOOST_REQUIRE((sim.in_flight->purpose == Purpose::candidate));
    candidate = sim.in_flight->point;
  }

  // Sends `command`: it must be taken, with `message` in its reply.
  void send(OperatorCommand command, std::string_view message) {
    auto outcome = sim.loop.on_command(sim.now, command, "test");
    BOOST_TEST(outcome.ok);
    BOOST_TEST(outcome.message.find(message) != std::string::npos);
    sim.run(std::move(outcome.actions));
  }

  // Lands the candidate; once the update interval allows, the service goes back to the default.
  void land_then_expect_the_move_back() {
    sim.finish_apply();
    BOOST_TEST(sim.count("observation") == 1u); // the baseline's only: the candidate is not measured
    sim.advance(5s);
    BOOST_REQUIRE(sim.in_flight);
    BOOST_TEST((sim.in_flight->purpose == Purpose::rollback));
    BOOST_TEST(sim.in_flight->point == sim.space.default_point());
    sim.finish_apply();
    sim.hold_applies = false;
  }

  void expect_the_candidate_never_judged() {
    for (const auto* decision : sim.records("decision"))
      BOOST_TEST(point_from_json(sim.space, decision->at("point")) != candidate);
    BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 0u); // the operator's, not counted
  }

  Simulation sim;
  Point candidate;
};

TuningPolicy patient_policy() {
  auto policy = service_policy();
  policy.budget = 100;
  return policy;
}

// Recommend mode asked for while a candidate is being applied: the switch is not refused; the
// candidate lands, is not measured, and the service goes back to the last known good.
BOOST_AUTO_TEST_CASE(switching_to_recommend_during_a_candidates_apply_waits_for_it_then_moves_back) {
  CandidateInFlight run(patient_policy());
  auto& sim = run.sim;
  run.send(OperatorCommand::recommend, "the apply in flight finishes first");
  BOOST_TEST(sim.count("mode", "mode", "recommend") == 1u);
  BOOST_TEST(sim.loop.mode() == TuningMode::recommend);
  run.land_then_expect_the_move_back();
  sim.advance(200s);
  BOOST_TEST(sim.applied.size() == 2u); // nothing more
  BOOST_TEST(sim.service == sim.space.default_point());
  BOOST_TEST(sim.count("recommendation") >= 5u);
  run.expect_the_candidate_never_judged();
}

// An operator's rollback while a candidate is being applied: not refused; made once it lands.
BOOST_AUTO_TEST_CASE(a_rollback_during_a_candidates_apply_is_made_once_the_apply_lands) {
  CandidateInFlight run(patient_policy());
  auto& sim = run.sim;
  run.send(OperatorCommand::rollback, "once the apply in flight has finished");
  BOOST_TEST(sim.in_flight->point == run.candidate); // still the candidate's apply: nothing new meanwhile
  run.land_then_expect_the_move_back();
  run.expect_the_candidate_never_judged();
  // Tuning goes on afterwards, in apply mode.
  sim.advance(60s);
  BOOST_TEST(sim.applied.size() > 2u);
  BOOST_TEST((sim.applied[2].purpose == Purpose::candidate));
}

// --- switchback -------------------------------------------------------------------------------

// Every configuration serves the same, but traffic steps up 20 % at `step`: a candidate measured
// after the step looks 20 % better than the incumbent measured before it.
void serve_flat_with_a_step(Simulation& sim, TimePoint step) {
  sim.rate = [&sim, step](const Point&) { return sim.now < step ? 1000.0 : 1200.0; };
}

// Proposes the points it is given, in order, then nothing: each test says which candidate it means.
class ScriptedSolver final : public Solver {
public:
  ScriptedSolver(const Space& space, std::vector<Point> script)
      : Solver(space, SolverOptions{Direction::maximize, 0}), script_(std::move(script)) {}
  std::optional<Point> ask(const Box&) override {
    if (next_ == script_.size()) return std::nullopt;
    return script_[next_++];
  }

private:
  std::vector<Point> script_;
  std::size_t next_ = 0;
};

const Point pool16_batch8{{Value{std::int64_t{16}}, Value{std::int64_t{8}}}};

std::unique_ptr<Solver> proposing(std::vector<Point> script) {
  return std::make_unique<ScriptedSolver>(service_space(), std::move(script));
}

BOOST_AUTO_TEST_CASE(a_traffic_step_fools_a_single_window_but_not_switchback_pairs) {
  auto policy = service_policy();
  policy.budget = 1;
  {
    Simulation plain(policy, proposing({pool16_batch8}));
    serve_flat_with_a_step(plain, plain.now + 13s);
    plain.start();
    plain.advance(40s);
    BOOST_TEST(plain.count("decision", "verdict", "promote") == 1u); // fooled
  }
  policy.switchback_pairs = 3;
  policy.switchback_duration = 6s;
  Simulation sim(policy, proposing({pool16_batch8}));
  serve_flat_with_a_step(sim, sim.now + 13s);
  sim.start();
  sim.advance(200s);
  BOOST_TEST(sim.count("decision", "verdict", "confirm") == 1u);
  BOOST_TEST(sim.count("decision", "verdict", "promote") == 0u);
  const auto pairs = sim.records("switchback");
  BOOST_REQUIRE(pairs.size() == 3u);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    BOOST_TEST(pairs[i]->at("pair").as_uint64() == i + 1);
    BOOST_TEST(std::abs(pairs[i]->at("difference").as_double()) < 60.0); // both halves after the step
  }
  const auto decisions = sim.records("decision");
  const auto& verdict = *decisions.back();
  BOOST_TEST(verdict.at("verdict").as_string() == "keep");
  BOOST_TEST(verdict.at("reason").as_string().starts_with("not confirmed by 3 switchback pairs"));
  // A/B/A/B/A/B after the candidate's window, then back to the incumbent; none counted as rollbacks.
  std::vector<Purpose> purposes;
  for (const auto& step : sim.applied) purposes.push_back(step.purpose);
  BOOST_REQUIRE(purposes.size() >= 8u);
  for (std::size_t i = 1; i <= 6; ++i) BOOST_TEST((purposes[i] == Purpose::switchback));
  BOOST_TEST(sim.applied[1].point == sim.space.default_point());
  BOOST_TEST(sim.applied[2].point == sim.applied[0].point);
  BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == 0u);
  BOOST_TEST(*sim.loop.incumbent() == sim.space.default_point());
}

BOOST_AUTO_TEST_CASE(switchback_promotes_a_candidate_that_is_really_better) {
  auto policy = service_policy();
  policy.budget = 1;
  policy.switchback_pairs = 2;
  policy.switchback_duration = 6s;
  Simulation sim(policy, proposing({pool16_batch8}));
  sim.start();
  sim.advance(200s);
  BOOST_REQUIRE(sim.loop.incumbent());
  std::size_t confirming_pairs = 0; // the study's final confirmation follows them
  for (const auto* r : sim.records("switchback")) confirming_pairs += r->contains("final") ? 0 : 1;
  BOOST_TEST(confirming_pairs == 2u);
  BOOST_TEST(sim.count("decision", "verdict", "promote") == 1u);
  const auto promoted = sim.records("decision");
  bool found = false;
  for (const auto* d : promoted)
    if (d->at("verdict").as_string() == "promote") {
      found = true;
      BOOST_TEST(d->at("reason").as_string().find("over 2 switchback pairs") != std::string::npos);
      BOOST_TEST(point_from_json(sim.space, d->at("point")) == *sim.loop.incumbent());
    }
  BOOST_TEST(found);
  BOOST_TEST(sim.rate(*sim.loop.incumbent()) > sim.rate(sim.space.default_point()));
  check_every_step_within_guardrails(sim, policy);
}

// A candidate that breaks a constraint in a switchback window is not confirmed; only a clear
// break (the guard's margin: a tenth of the limit, or two standard errors) is a rollback that
// counts against the hour's budget, so noise at the limit cannot spend it.
BOOST_AUTO_TEST_CASE(a_switchback_window_that_breaks_a_constraint_counts_only_a_clear_break) {
  for (const double candidate_p99 : {252.0, 400.0}) {
    BOOST_TEST_CONTEXT("p99 in the candidate's switchback windows: " << candidate_p99) {
      auto policy = service_policy();
      policy.budget = 1;
      policy.switchback_pairs = 2;
      policy.switchback_duration = 6s;
      Simulation sim(policy, proposing({pool16_batch8}));
      sim.noise_fraction = 0.0;
      sim.p99 = [&](const Point& p) { return p == pool16_batch8 && sim.loop.confirming() ? candidate_p99 : 120.0; };
      sim.start();
      sim.advance(200s);
      const bool clear = candidate_p99 > 275.0;
      BOOST_TEST(sim.count("decision", "verdict", "promote") == 0u);
      BOOST_TEST(sim.count("decision", "verdict", "rollback") == (clear ? 1u : 0u));
      BOOST_TEST(sim.loop.guardrails().rollbacks_in_last_hour(sim.now) == (clear ? 1u : 0u));
      bool not_confirmed = false;
      for (const auto* d : sim.records("decision"))
        not_confirmed = not_confirmed || d->at("reason").as_string().find("not confirmed: breaks 'p99_ms <= 250'") == 0;
      BOOST_TEST(not_confirmed);
      BOOST_TEST(sim.service == sim.space.default_point());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pause_during_switchback_abandons_the_confirmation) {
  auto policy = service_policy();
  policy.budget = 5;
  policy.switchback_pairs = 3;
  policy.switchback_duration = 6s;
  Simulation sim(policy, proposing({pool16_batch8}));
  sim.start();
  for (int i = 0; i < 200 && !sim.loop.confirming(); ++i) sim.advance(1s);
  BOOST_REQUIRE(sim.loop.confirming());
  sim.advance(3s);
  auto outcome = sim.loop.on_command(sim.now, OperatorCommand::pause, "test");
  sim.run(std::move(outcome.actions));
  sim.advance(10s);
  BOOST_TEST(!sim.loop.confirming());
  outcome = sim.loop.on_command(sim.now, OperatorCommand::resume, "test");
  sim.run(std::move(outcome.actions));
  sim.advance(300s);
  BOOST_TEST(sim.loop.phase() == LoopPhase::done);
  BOOST_TEST(sim.service == *sim.loop.incumbent());
}

// --- host veto --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_host_veto_is_a_refusal_with_the_hosts_reason_and_never_applied) {
  auto policy = service_policy();
  policy.budget = 6;
  Simulation sim(policy);
  std::size_t asked = 0;
  sim.loop.set_veto([&](const Point& candidate) -> std::optional<std::string> {
    ++asked;
    if (asked == 1) return "change freeze until 14:00";
    if (as_int(candidate, 0) > 12) return "pool above 12 needs a ticket";
    return std::nullopt;
  });
  sim.start();
  sim.advance(600s);
  BOOST_TEST(asked >= 2u);
  const auto refusals = sim.records("refusal");
  BOOST_REQUIRE(!refusals.empty());
  BOOST_TEST(refusals.front()->at("reason").as_string() == "host_veto");
  BOOST_TEST(refusals.front()->at("detail").as_string() == "change freeze until 14:00");
  for (const auto& step : sim.applied)
    if (step.purpose == Purpose::candidate) BOOST_TEST(as_int(step.point, 0) <= 12);
  BOOST_TEST(sim.count("applied", "purpose", "candidate") >= 1u);
}

BOOST_AUTO_TEST_CASE(a_host_that_vetoes_everything_puts_the_loop_in_safe_mode) {
  auto policy = service_policy();
  Simulation sim(policy);
  sim.loop.set_veto([](const Point&) -> std::optional<std::string> { return "no"; });
  sim.start();
  sim.advance(120s);
  BOOST_TEST(sim.applied.empty());
  BOOST_TEST(sim.count("refusal", "reason", "host_veto") == 3u);
  BOOST_TEST(sim.loop.in_safe_mode());
  BOOST_TEST(sim.records("safe_mode").front()->at("reason").as_string().find("vetoed by the host") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(paired_test_matches_hand_computed_values) {
  const std::vector<double> d{2.0, 4.0, 3.0};
  const auto test = paired_t_test(d);
  BOOST_REQUIRE(test);
  BOOST_TEST(test->mean_difference == 3.0);
  BOOST_TEST(test->t == 3.0 / std::sqrt(1.0 / 3.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(test->degrees_of_freedom == 2.0);
  BOOST_TEST(test->p_greater < 0.05);
  BOOST_TEST(!paired_t_test(std::vector<double>{1.0}));
  BOOST_TEST(paired_t_test(std::vector<double>{1.0, 1.0})->p_greater == 0.0);
  BOOST_TEST(paired_t_test(std::vector<double>{-1.0, 1.0})->p_greater == 0.5, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_blind_loop_holds_the_incumbent_and_applies_no_candidate_until_it_sees_again) {
  auto policy = service_policy();
  policy.budget = 100;
  Simulation sim(policy);
  sim.start();
  sim.advance(15s); // the baseline is scored; the first candidate is applied
  BOOST_REQUIRE(sim.count("applied", "purpose", "candidate") == 1u);
  sim.scraping = false; // the metrics endpoint goes down
  sim.advance(120s);
  BOOST_TEST(sim.count("applied", "purpose", "candidate") == 1u); // no second candidate while blind
  BOOST_TEST(sim.count("decision", "verdict", "rollback") == 1u);  // the blind window was rolled back, once
  BOOST_TEST(sim.service == *sim.loop.incumbent());
  BOOST_TEST(sim.count("decision", "verdict", "discard") >= 3u); // the incumbent's windows, unscorable
  sim.scraping = true;
  sim.advance(60s);
  BOOST_TEST(sim.count("applied", "purpose", "candidate") > 1u); // tuning resumes
}

// Found by fuzzing replay: numbers out of range overflowed conversions (undefined behaviour).
BOOST_AUTO_TEST_CASE(replay_refuses_times_and_counts_out_of_range) {
  const std::vector<boost::json::object> corrupt[] = {
      {{{"seq", 1}, {"time", 17000000112100}, {"type", "operator"}, {"action", "pause"}}},
      {{{"seq", 1}, {"time", 1e300}, {"type", "operator"}, {"action", "pause"}}},
      {{{"seq", 1}, {"time", -5}, {"type", "operator"}, {"action", "pause"}}},
      {{{"seq", 1}, {"time", 9223372036000}, {"type", "safe_mode"}, {"entered", true}, {"reason", "x"}}},
      {{{"seq", 1},
        {"time", 1},
        {"type", "incumbent"},
        {"point", {{"pool", 8}, {"batch", 4}}},
        {"value", 1.0},
        {"samples_count", -1},
        {"samples_mean", 1.0},
        {"samples_variance", 0.0}}},
  };
  for (const auto& records : corrupt) {
    Simulation sim(service_policy());
    BOOST_CHECK_THROW(sim.loop.replay(records), std::invalid_argument);
  }
}

BOOST_AUTO_TEST_SUITE_END()
