#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <trimtab/core/apply_transaction.hpp>

using namespace trimtab;

namespace {

Settings one(const std::string& name, std::int64_t value) { return {{name, Value{value}}}; }

// Three adapters, each with one setting going from 1 to 2.
std::vector<AdapterChange> three_changes() {
  return {{"app", one("pool", 1), one("pool", 2)}, {"bouncer", one("size", 1), one("size", 2)}, {"cache", one("mb", 1), one("mb", 2)}};
}

// Where the faults are: the n-th call of each kind (0-based) fails, or reads back unchanged.
struct Faults {
  std::optional<std::size_t> apply, read_back, undo;
  std::set<std::size_t> cannot_read; // adapters that cannot read back
};

Faults failing_apply(std::size_t at, std::optional<std::size_t> undo = std::nullopt) {
  Faults faults;
  faults.apply = at;
  faults.undo = undo;
  return faults;
}

Faults lying_read_back(std::size_t at) {
  Faults faults;
  faults.read_back = at;
  return faults;
}

// Runs the transaction against adapters that keep what they are given, and records the calls.
struct Run {
  std::map<std::string, Settings> running;
  std::vector<std::string> calls;
  ApplyOutcome outcome;
};

Run run(const std::vector<AdapterChange>& changes, const Faults& faults) {
  Run out;
  for (const auto& change : changes) out.running[change.adapter] = change.before;
  ApplyTransaction transaction(changes);
  std::size_t applies = 0, reads = 0, undos = 0;
  while (!transaction.finished()) {
    const auto& step = transaction.next();
    if (const auto* apply = std::get_if<ApplyCall>(&step)) {
      const auto& name = changes[apply->index].adapter;
      out.calls.push_back("apply " + name);
      if (faults.apply == applies++) {
        transaction.applied(false, "adapter '" + name + "': HTTP 500");
        continue;
      }
      out.running[name] = apply->settings;
      transaction.applied(true);
    } else if (const auto* read = std::get_if<ReadBackCall>(&step)) {
      const auto& change = changes[read->index];
      out.calls.push_back("read " + change.adapter);
      if (faults.cannot_read.contains(read->index)) {
        transaction.read_back({ReadBack::Kind::cannot_tell, {}});
        continue;
      }
      // A lying adapter: it said yes and still runs the old value.
      if (faults.read_back == reads++) out.running[change.adapter] = change.before;
      transaction.read_back({ReadBack::Kind::settings, out.running[change.adapter]});
    } else if (const auto* undo = std::get_if<UndoCall>(&step)) {
      const auto& name = changes[undo->index].adapter;
      out.calls.push_back("undo " + name);
      if (faults.undo == undos++) {
        transaction.undone(false, "connection refused");
        continue;
      }
      out.running[name] = undo->settings;
      transaction.undone(true);
    }
  }
  out.outcome = std::get<ApplyOutcome>(transaction.next());
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(apply_transaction)

BOOST_AUTO_TEST_CASE(every_adapter_is_applied_then_read_back) {
  const auto result = run(three_changes(), Faults());
  BOOST_TEST(result.outcome.ok);
  BOOST_TEST(result.calls == (std::vector<std::string>{"apply app", "apply bouncer", "apply cache", "read app", "read bouncer", "read cache"}),
             boost::test_tools::per_element());
  for (const auto& change : three_changes()) BOOST_CHECK(result.running.at(change.adapter) == change.wanted);
}

// Fails each apply in turn: the adapter at fault is named, those before it are put back in
// reverse order, none after it is called, and the service runs what it ran before.
BOOST_AUTO_TEST_CASE(a_failed_apply_puts_back_those_before_it_in_reverse) {
  const auto changes = three_changes();
  for (std::size_t at = 0; at < changes.size(); ++at) {
    BOOST_TEST_CONTEXT("apply " << at << " fails") {
      const auto result = run(changes, failing_apply(at));
      BOOST_TEST(!result.outcome.ok);
      BOOST_TEST((result.outcome.failure == ApplyOutcome::Failure::apply_failed));
      BOOST_TEST(result.outcome.adapter == changes[at].adapter);
      BOOST_TEST(result.outcome.message.starts_with("adapter '" + changes[at].adapter + "': HTTP 500"));
      std::vector<std::string> expected;
      for (std::size_t i = 0; i <= at; ++i) expected.push_back("apply " + changes[i].adapter);
      for (std::size_t i = at; i-- > 0;) expected.push_back("undo " + changes[i].adapter);
      BOOST_TEST(result.calls == expected, boost::test_tools::per_element());
      for (const auto& change : changes) BOOST_CHECK(result.running.at(change.adapter) == change.before);
      // Named in the order they were put back.
      std::string reverted;
      for (std::size_t i = at; i-- > 0;) reverted += " '" + changes[i].adapter + "'";
      if (at > 0) BOOST_TEST(result.outcome.message.ends_with("; reverted" + reverted));
    }
  }
}

// Each read-back in turn shows a setting that did not take: every adapter changed is put back,
// the liar included.
BOOST_AUTO_TEST_CASE(a_setting_that_did_not_take_puts_every_change_back) {
  const auto changes = three_changes();
  for (std::size_t at = 0; at < changes.size(); ++at) {
    BOOST_TEST_CONTEXT("read-back " << at << " shows the old value") {
      const auto result = run(changes, lying_read_back(at));
      BOOST_TEST(!result.outcome.ok);
      BOOST_TEST((result.outcome.failure == ApplyOutcome::Failure::did_not_take));
      BOOST_TEST(result.outcome.adapter == changes[at].adapter);
      BOOST_TEST(result.outcome.message.starts_with("adapter '" + changes[at].adapter + "' reported success but reads back"));
      BOOST_TEST(result.calls.back() == "undo " + changes[0].adapter);
      BOOST_TEST(result.calls.size() == 3 + (at + 1) + 3);
      for (const auto& change : changes) BOOST_CHECK(result.running.at(change.adapter) == change.before);
    }
  }
}

// A failing undo leaves that adapter on the new settings, says so, and the others are still put
// back.
BOOST_AUTO_TEST_CASE(an_undo_that_fails_is_named_and_the_rest_still_put_back) {
  const auto changes = three_changes();
  for (std::size_t undo = 0; undo < 2; ++undo) {
    BOOST_TEST_CONTEXT("the third apply fails, undo " << undo << " too") {
      const auto result = run(changes, failing_apply(2, undo));
      const auto& stuck = changes[1 - undo].adapter, &reverted = changes[undo].adapter;
      BOOST_TEST(result.outcome.stuck == std::vector<std::string>{stuck}, boost::test_tools::per_element());
      BOOST_TEST(result.outcome.message.find("COULD NOT REVERT " + stuck + " (connection refused)") != std::string::npos);
      BOOST_TEST(result.outcome.message.find("reverted '" + reverted + "'") != std::string::npos);
      BOOST_CHECK(result.running.at(stuck) == changes[1 - undo].wanted);
      BOOST_CHECK(result.running.at(reverted) == changes[undo].before);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_adapter_that_cannot_read_back_is_taken_at_its_word) {
  Faults none_can_read;
  none_can_read.cannot_read = {0, 1, 2};
  const auto result = run(three_changes(), none_can_read);
  BOOST_TEST(result.outcome.ok);
}

BOOST_AUTO_TEST_CASE(nothing_to_change_is_done_at_once) {
  ApplyTransaction transaction({});
  BOOST_TEST(transaction.finished());
  BOOST_TEST(std::get<ApplyOutcome>(transaction.next()).ok);
  BOOST_CHECK_THROW(transaction.applied(true), std::logic_error);
}

// Closer to the asked value than to the old one counts as taken: a service may round.
BOOST_AUTO_TEST_CASE(a_rounded_read_back_took_and_a_label_compares_without_case) {
  BOOST_TEST(!unchanged_setting({{"t", Value{14.1234}}}, {{"t", Value{10.0}}}, {{"t", Value{14.12}}}));
  BOOST_TEST(unchanged_setting({{"t", Value{14.1234}}}, {{"t", Value{10.0}}}, {{"t", Value{11.0}}}).value() ==
             "reads back t=11 (asked 14.1234, was 10)");
  BOOST_TEST(!unchanged_setting({{"m", Value{std::string("LRU")}}}, {{"m", Value{std::string("fifo")}}},
                                {{"m", Value{std::string("lru")}}}));
}

BOOST_AUTO_TEST_SUITE_END()
