// The wait after an apply until the service runs it: who is asked, when, and what is journaled.

#include <boost/test/unit_test.hpp>

#include <chrono>

#include <trimtab/core/in_effect_wait.hpp>

using namespace trimtab;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point t0{};
const Settings applied{{"pool_size", std::int64_t{20}}, {"maxmemory", std::int64_t{64}}};

std::size_t asked(const InEffectWait& wait) {
  BOOST_TEST_REQUIRE(std::holds_alternative<InEffectAsk>(wait.next()));
  return std::get<InEffectAsk>(wait.next()).index;
}

Clock::time_point sleeps_until(const InEffectWait& wait) {
  BOOST_TEST_REQUIRE(std::holds_alternative<InEffectSleep>(wait.next()));
  return std::get<InEffectSleep>(wait.next()).until;
}

const std::optional<InEffectRecord>& done_with(const InEffectWait& wait) {
  BOOST_TEST_REQUIRE(std::holds_alternative<InEffectDone>(wait.next()));
  return std::get<InEffectDone>(wait.next()).record;
}

} // namespace

BOOST_AUTO_TEST_SUITE(in_effect_wait)

BOOST_AUTO_TEST_CASE(nothing_changed_is_done_at_once_without_a_record) {
  InEffectWait wait({}, applied, t0, 30s);
  BOOST_TEST(!done_with(wait).has_value());
  wait.not_in_effect("late answer", t0); // nothing was asked: ignored, and no adapter to name
  BOOST_TEST(!done_with(wait).has_value());
}

BOOST_AUTO_TEST_CASE(in_effect_at_the_first_look_writes_no_record) {
  InEffectWait wait({"pgbouncer", "redis"}, applied, t0, 30s);
  BOOST_TEST(asked(wait) == 0u);
  wait.in_effect(t0 + 10ms);
  BOOST_TEST(asked(wait) == 1u);
  wait.in_effect(t0 + 20ms);
  BOOST_TEST(!done_with(wait).has_value());
}

BOOST_AUTO_TEST_CASE(asks_again_only_those_not_in_effect_each_poll_and_records_the_wait) {
  InEffectWait wait({"pgbouncer", "redis"}, applied, t0, 30s);
  wait.not_in_effect("pool_size 4 of 20, 27 server connections", t0 + 5ms);
  wait.in_effect(t0 + 10ms);
  BOOST_TEST((sleeps_until(wait) == t0 + 10ms + 1s));
  wait.woke(t0 + 1010ms, false);
  BOOST_TEST(asked(wait) == 0u); // only pgbouncer, which said no
  wait.in_effect(t0 + 1020ms);
  const auto& record = done_with(wait);
  BOOST_TEST_REQUIRE(record.has_value());
  BOOST_TEST(record->confirmed);
  BOOST_TEST(record->waited_ms == 1020);
  BOOST_TEST(record->detail.empty());
  BOOST_TEST((record->point == applied));
}

BOOST_AUTO_TEST_CASE(past_the_limit_the_record_says_what_is_still_not_in_effect) {
  InEffectWait wait({"pgbouncer", "redis"}, applied, t0, 1500ms);
  wait.not_in_effect("pool_size 4 of 20", t0);
  wait.cannot_tell("connection refused", t0);
  wait.woke(sleeps_until(wait), false);
  wait.not_in_effect("pool_size 8 of 20", t0 + 1s);
  wait.in_effect(t0 + 1s);
  // The last sleep ends at the limit, not a whole poll later.
  BOOST_TEST((sleeps_until(wait) == t0 + 1500ms));
  wait.woke(t0 + 1500ms, false);
  BOOST_TEST(asked(wait) == 0u);
  wait.not_in_effect("pool_size 12 of 20", t0 + 1500ms);
  const auto& record = done_with(wait);
  BOOST_TEST_REQUIRE(record.has_value());
  BOOST_TEST(!record->confirmed);
  BOOST_TEST(record->waited_ms == 1500);
  BOOST_TEST(record->detail == "adapter 'pgbouncer': pool_size 12 of 20"); // the last round's words only
}

BOOST_AUTO_TEST_CASE(a_question_that_fails_counts_as_not_in_effect) {
  InEffectWait wait({"redis"}, applied, t0, 0ms);
  wait.cannot_tell("timed out", t0);
  const auto& record = done_with(wait);
  BOOST_TEST_REQUIRE(record.has_value());
  BOOST_TEST(!record->confirmed);
  BOOST_TEST(record->detail == "cannot tell: timed out");
  BOOST_TEST(record->waited_ms == 0);
}

BOOST_AUTO_TEST_CASE(stopping_ends_the_wait_where_it_is) {
  InEffectWait wait({"pgbouncer"}, applied, t0, 30s);
  wait.not_in_effect("pool_size 4 of 20", t0);
  wait.woke(t0 + 200ms, true);
  const auto& record = done_with(wait);
  BOOST_TEST_REQUIRE(record.has_value());
  BOOST_TEST(!record->confirmed);
  BOOST_TEST(record->waited_ms == 200);
  BOOST_TEST(record->detail == "adapter 'pgbouncer': pool_size 4 of 20");
}

BOOST_AUTO_TEST_CASE(answers_out_of_turn_change_nothing) {
  InEffectWait wait({"pgbouncer"}, applied, t0, 30s);
  wait.woke(t0, false); // not sleeping: ignored
  BOOST_TEST(asked(wait) == 0u);
  wait.not_in_effect("pool_size 4 of 20", t0);
  wait.in_effect(t0); // sleeping, not asking: ignored
  BOOST_TEST((sleeps_until(wait) == t0 + 1s));
}

BOOST_AUTO_TEST_SUITE_END()
