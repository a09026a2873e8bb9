#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <boost/json.hpp>

#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/json_text.hpp>


using namespace trimtab;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

fs::path journals_dir() { return fs::path(TRIMTAB_SOURCE_DIR) / "tests" / "data" / "journals"; }

std::string reason_of(const std::string& line) {
  try {
    (void)decode_line(json::parse(line).as_object());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(journal_codec)

// Every line the loop and the agent wrote reads into its record and writes back to the same text:
// no key lost, renamed, reordered or retyped.
BOOST_AUTO_TEST_CASE(every_golden_line_reads_and_writes_back_to_the_same_text) {
  std::size_t lines = 0;
  std::set<std::string> types;
  for (const auto* name : {"demo", "operator", "failures"}) {
    std::ifstream in(journals_dir() / name / "journal.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      // Against the parsed line written out again, not the line itself: Boost 1.81's parser can
      // miss a double's last bit, which is no concern of the codec's.
      const auto parsed = json::parse(line).as_object();
      const auto decoded = decode_line(parsed);
      BOOST_CHECK(!std::holds_alternative<UnknownRecord>(decoded.record));
      types.insert(record_type(decoded.record));
      BOOST_CHECK_EQUAL(to_json_text(encode_line(decoded)), to_json_text(parsed));
      ++lines;
    }
  }
  BOOST_CHECK_GT(lines, 150u);
  BOOST_CHECK_EQUAL(types.size(), 17u); // all but in_effect and compacted, below
}

BOOST_AUTO_TEST_CASE(records_the_golden_journals_lack_round_trip) {
  const Settings point{{"a", Value{std::int64_t{3}}}, {"b", Value{0.25}}};
  for (const JournalRecord& record :
       {JournalRecord{InEffectRecord{point, true, 1200, ""}}, JournalRecord{InEffectRecord{point, false, 30000, "pool 4 of 9"}},
        JournalRecord{CompactedRecord{120, 14}},
        JournalRecord{ObservationRecord{point, Purpose::remeasure, {{"rps", 10.5}, {"p99", std::nullopt}}, 8, 0, true, true, 0.0, std::nullopt, {}}}}) {
    const JournalLine line{7, 1'796'589'800'652, record};
    const auto text = to_json_text(encode_line(line));
    const auto again = decode_line(json::parse(text).as_object());
    BOOST_CHECK_EQUAL(again.seq, 7u);
    BOOST_CHECK_EQUAL(again.time_ms, 1'796'589'800'652);
    BOOST_CHECK_EQUAL(record_type(again.record), record_type(record));
    BOOST_CHECK_EQUAL(to_json_text(encode_line(again)), text);
  }
}

// A newer build's record survives an older build's read and write untouched.
BOOST_AUTO_TEST_CASE(an_unknown_kind_is_kept_as_it_was) {
  const std::string text = R"({"seq":3,"time":1000,"type":"fleet_lease","holder":"replica-2","until":5000})";
  const auto line = decode_line(json::parse(text).as_object());
  BOOST_REQUIRE(std::holds_alternative<UnknownRecord>(line.record));
  BOOST_CHECK_EQUAL(record_type(line.record), "fleet_lease");
  BOOST_CHECK_EQUAL(to_json_text(encode_line(line)), text);
}

BOOST_AUTO_TEST_CASE(a_bad_field_is_named) {
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"applied","point":{"a":1,"b":2},"purpose":"sideways"})"),
                    "'purpose': unknown purpose 'sideways'");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"observation","point":{"a":1,"b":2},"purpose":"candidate"})"),
                    "has no 'value'");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"incumbent","point":{"a":1,"b":2},"value":"high","samples_count":3})"),
                    "'value' is not a number");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"decision","verdict":"maybe"})"),
                    "'verdict': unknown verdict 'maybe'");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":-1,"time":1,"type":"proposal","point":{"a":1,"b":2}})"),
                    "'seq' is not a count");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"proposal","point":{"a":true}})"),
                    "'point': param 'a': expected a number or a string");
  BOOST_CHECK_EQUAL(reason_of(R"({"seq":1,"time":1,"type":"operator","action":"reboot","source":"cli"})"),
                    "'action': unknown command 'reboot'");
}

BOOST_AUTO_TEST_SUITE_END()
