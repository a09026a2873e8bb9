// When the journal is compacted: past its limit, once something can be dropped, and not again
// until it has grown enough for another compaction to pay.

#include <boost/test/unit_test.hpp>

#include <trimtab/core/compaction_trigger.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(compaction_trigger)

BOOST_AUTO_TEST_CASE(only_past_the_limit_and_only_once_something_can_be_dropped) {
  CompactionTrigger trigger(1000);
  BOOST_TEST(!trigger.due(999, true));
  BOOST_TEST(trigger.due(1000, true));
  BOOST_TEST(!trigger.due(5000, false)); // a study under way: nothing to drop
}

BOOST_AUTO_TEST_CASE(after_a_compaction_the_next_waits_until_the_journal_has_doubled) {
  CompactionTrigger trigger(1000);
  trigger.compacted(800);
  BOOST_TEST(!trigger.due(1599, true));
  BOOST_TEST(trigger.due(1600, true));
  trigger.compacted(3000); // a study larger than the limit compacts little
  BOOST_TEST(!trigger.due(5999, true));
  BOOST_TEST(trigger.due(6000, true));
}

BOOST_AUTO_TEST_CASE(after_a_failure_the_next_try_is_a_limit_later) {
  CompactionTrigger trigger(1000);
  trigger.failed(1200);
  BOOST_TEST(!trigger.due(2199, true));
  BOOST_TEST(trigger.due(2200, true));
}

BOOST_AUTO_TEST_SUITE_END()
