#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <trimtab/agent/study_fold.hpp>
#include <trimtab/agent/study_report_html.hpp>

using namespace trimtab;
namespace json = boost::json;

namespace {

const char* const script = "<script>alert(1)</script>";

/// Records with seq and time filled in, in order.
class Journal {
public:
  Journal& add(json::object record) {
    record["seq"] = records_.size() + 1;
    record["time"] = 1'700'000'000'000 + static_cast<std::int64_t>(records_.size()) * 1000;
    records_.push_back(std::move(record));
    return *this;
  }
  Journal& observe(std::int64_t window, json::object point, json::value value, const char* purpose = "candidate") {
    return add({{"type", "observation"},
                {"point", std::move(point)},
                {"purpose", purpose},
                {"value", std::move(value)},
                {"constraints", json::array{-1.0}},
                {"signals", {{"rps", 1}}},
                {"samples", 6},
                {"window", window}});
  }
  Journal& decide(json::object point, const char* verdict, double value, double incumbent_value, double effect,
                  double p_value, const char* reason) {
    return add({{"type", "decision"},
                {"point", std::move(point)},
                {"verdict", verdict},
                {"reason", reason},
                {"value", value},
                {"incumbent_value", incumbent_value},
                {"effect", effect},
                {"p_value", p_value}});
  }
  Journal& apply(json::object point, const char* purpose) {
    add({{"type", "apply"}, {"point", point}, {"purpose", purpose}});
    return add({{"type", "applied"}, {"point", std::move(point)}, {"purpose", purpose}});
  }
  [[nodiscard]] const std::vector<json::object>& records() const { return records_; }
  [[nodiscard]] StudyReport report() const { return study_report_from_journal(records_); }

private:
  std::vector<json::object> records_;
};

json::object point(int pool, const char* policy) { return {{"pool_size", pool}, {"policy", policy}}; }

/// A first start record from the baseline point(20, "lru").
json::object start(const char* direction, const char* expression) {
  return {{"type", "start"},
          {"baseline", point(20, "lru")},
          {"enabled", true},
          {"resumed", false},
          {"objective", {{"direction", direction}, {"expression", expression}}}};
}

/// A baseline window, then five windows: one promote, one rollback, one discard, a refusal.
Journal small_study() {
  Journal j;
  j.add(start("maximize", "rps - 10 * errors"));
  j.observe(0, point(20, "lru"), 100.0, "baseline");
  j.decide(point(20, "lru"), "keep", 100, 100, 0, 1, "baseline measured");
  j.add({{"type", "incumbent"}, {"point", point(20, "lru")}, {"value", 100.0}});

  j.apply(point(30, "lfu"), "candidate");
  j.observe(1, point(30, "lfu"), 110.0);
  j.decide(point(30, "lfu"), "promote", 110, 100, 0.1, 0.004, "better by 10.0%");
  j.add({{"type", "incumbent"}, {"point", point(30, "lfu")}, {"value", 110.0}});

  j.apply(point(40, script), "candidate");
  j.observe(2, point(40, script), 90.0);
  j.decide(point(40, script), "rollback", 90, 110, -0.1818, 0.02, "regression: p99_ms > 250 & <worse>");
  j.apply(point(30, "lfu"), "rollback");

  j.add({{"type", "refusal"}, {"reason", "max_delta"}, {"detail", "pool_size moved by 30 > 10"}});
  j.add({{"type", "future_record"}, {"whatever", json::array{1, 2, 3}}}); // from a newer version

  j.apply(point(25, "lfu"), "candidate");
  j.observe(3, point(25, "lfu"), 108.0);
  j.decide(point(25, "lfu"), "keep", 108, 110, -0.018, 0.4, "not better");

  j.add({{"type", "apply"}, {"point", point(35, "random")}, {"purpose", "candidate"}});
  j.add({{"type", "apply_failed"}, {"point", point(35, "random")}, {"purpose", "candidate"}, {"error", "timeout"}});

  j.apply(point(28, "random"), "candidate");
  j.observe(4, point(28, "random"), 95.0);
  j.decide(point(28, "random"), "discard", 95, 110, -0.136, 0.3, "constraint p99_ms <= 250 broke");

  j.apply(point(32, "lfu"), "candidate");
  j.observe(5, point(32, "lfu"), 111.0);
  json::object decision{{"type", "decision"}, {"point", point(32, "lfu")}, {"verdict", "keep"},
                        {"reason", "within noise"}, {"value", 111.0}, {"incumbent_value", 110.0},
                        {"effect", 0.009}, {"p_value", 0.6}, {"new_key_from_the_future", "ignored"}};
  j.add(std::move(decision));
  j.add({{"type", "operator"}, {"action", "pause"}, {"source", "control"}});
  return j;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

/// The element that starts with `start` (e.g. `class="marker promote"`), up to its first '>'.
std::string element_with(const std::string& text, const std::string& start) {
  const auto at = text.find(start);
  if (at == std::string::npos) return {};
  const auto open = text.rfind('<', at);
  return text.substr(open, text.find('>', at) - open + 1);
}

void check_finite_text(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  BOOST_TEST(lower.find("nan") == std::string::npos);
  BOOST_TEST(lower.find("inf") == std::string::npos);
}


/// An observation with the signals given, as the tuning loop writes it.
void observe_signals(Journal& j, std::int64_t window, double value, json::object signals) {
  j.add({{"type", "observation"},
         {"point", point(20, "lru")},
         {"purpose", "candidate"},
         {"value", value},
         {"constraints", json::array{-1.0}},
         {"signals", std::move(signals)},
         {"samples", 6},
         {"window", window}});
  j.decide(point(20, "lru"), "keep", value, value, 0, 0.5, "not better");
}

/// Deterministic jitter in [-1, 1] for window i.
double jitter(int i) { return std::sin(i * 2.399963); }

const SignalTrend* trend_named(const StudyReport& report, const std::string& name) {
  for (const auto& trend : report.trends)
    if (trend.name == name) return &trend;
  return nullptr;
}

/// A minimized latency objective falling while p99 (bounded by a constraint) rises.
Journal drifting_study() {
  Journal j;
  auto first = start("minimize", "mean_ms");
  first["constraints"] = json::array{"p99_ms <= 100", "errors / rps < 0.01"};
  j.add(std::move(first));
  for (int i = 1; i <= 12; ++i)
    observe_signals(j, i, 80.0 - 2.0 * i + 0.5 * jitter(i),
                    {{"p99_ms", 50.0 + 3.0 * i + jitter(i + 40)}, {"rps", 1000.0 + 5 * jitter(i + 80)},
                     {"hit_ratio", nullptr}});
  return j;
}
} // namespace

BOOST_AUTO_TEST_SUITE(study_report)

BOOST_AUTO_TEST_CASE(folds_a_small_study) {
  const auto report = small_study().report();
  BOOST_TEST(report.counts.windows == 6u);
  BOOST_TEST(report.windows.size() == 6u);
  BOOST_TEST(report.counts.promotions == 1u);
  BOOST_TEST(report.counts.keeps == 3u);
  BOOST_TEST(report.counts.rollbacks == 1u);
  BOOST_TEST(report.counts.discards == 1u);
  BOOST_TEST(report.counts.apply_failures == 1u);
  BOOST_TEST(report.counts.refusals_total() == 1u);
  BOOST_TEST(report.counts.refusals.at("max_delta") == 1u);

  BOOST_TEST(report.maximize);
  BOOST_TEST(report.objective_expression == "rps - 10 * errors");
  BOOST_REQUIRE(report.baseline);
  BOOST_TEST(json::value(*report.baseline) == json::value(point(20, "lru")));
  BOOST_REQUIRE(report.baseline_value);
  BOOST_TEST(*report.baseline_value == 100.0);
  BOOST_REQUIRE(report.incumbent);
  BOOST_TEST(json::value(*report.incumbent) == json::value(point(30, "lfu")));
  BOOST_TEST(report.incumbent_value.value_or(0) == 110.0);
  BOOST_REQUIRE(report.applied);
  BOOST_TEST(json::value(*report.applied) == json::value(point(32, "lfu")));

  BOOST_TEST(report.paused);
  BOOST_TEST(!report.safe_mode);
  BOOST_TEST(!report.done);
  BOOST_TEST(study_state(report) == "paused");
  BOOST_TEST(report.records == small_study().records().size());
}

BOOST_AUTO_TEST_CASE(windows_carry_their_decisions) {
  const auto report = small_study().report();
  const auto& w = report.windows;
  for (std::size_t i = 0; i < w.size(); ++i) BOOST_TEST(w[i].index == static_cast<std::int64_t>(i));
  BOOST_TEST(w[0].purpose == "baseline");
  BOOST_TEST(w[1].verdict == "promote");
  BOOST_TEST(w[1].value.value_or(0) == 110.0);
  BOOST_TEST(w[1].effect.value_or(0) == 0.1);
  BOOST_TEST(w[1].p_value.value_or(1) == 0.004);
  BOOST_TEST(w[1].time_ms > 1'700'000'000'000);
  BOOST_TEST(w[2].verdict == "rollback");
  BOOST_TEST(w[2].reason == "regression: p99_ms > 250 & <worse>");
  BOOST_TEST(w[4].verdict == "discard");
  // The incumbent after each decision: 100 until the promotion, 110 after.
  const std::vector<double> incumbents{100, 110, 110, 110, 110, 110};
  for (std::size_t i = 0; i < w.size(); ++i) BOOST_TEST(w[i].incumbent_value.value_or(-1) == incumbents[i]);
}

BOOST_AUTO_TEST_CASE(state_from_safe_mode_operator_and_done) {
  Journal j = small_study();
  j.add({{"type", "operator"}, {"action", "resume"}, {"source", "control"}});
  BOOST_TEST(study_state(j.report()) == "tuning");
  j.add({{"type", "safe_mode"}, {"entered", true}, {"reason", "3 rollbacks in 10 minutes"}});
  BOOST_TEST(study_state(j.report()) == "safe mode");
  BOOST_TEST(j.report().safe_mode_reason == "3 rollbacks in 10 minutes");
  j.add({{"type", "safe_mode"}, {"entered", false}, {"reason", "operator"}});
  BOOST_TEST(study_state(j.report()) == "tuning");
  j.add({{"type", "done"}, {"reason", "budget"}, {"best", point(30, "lfu")}, {"best_value", 110.0}});
  const auto report = j.report();
  BOOST_TEST(study_state(report) == "done");
  BOOST_TEST(report.done_reason == "budget");
  BOOST_TEST(report.best_value.value_or(0) == 110.0);
  // A restart after the end applies the final configuration and stays done.
  j.add({{"type", "start"}, {"baseline", point(30, "lfu")}, {"enabled", true}, {"resumed", true}});
  BOOST_TEST(j.report().done);
  BOOST_TEST(j.report().counts.restarts == 1u);
}

BOOST_AUTO_TEST_CASE(direction_from_the_start_record) {
  Journal j;
  j.add({{"type", "start"},
         {"baseline", point(20, "lru")},
         {"enabled", false},
         {"resumed", false},
         {"objective", {{"direction", "minimize"}, {"expression", "p99_ms"}}}});
  const auto report = j.report();
  BOOST_TEST(!report.maximize);
  BOOST_TEST(!report.enabled);
  BOOST_TEST(report.objective_expression == "p99_ms");
  BOOST_TEST(render_history_svg(report).find("lower is better") != std::string::npos);
  BOOST_TEST(render_report_html(report).find("observe-only") != std::string::npos); // the kill switch

  Journal plain;
  plain.add({{"type", "start"}, {"baseline", point(20, "lru")}, {"enabled", true}, {"resumed", false}});
  BOOST_TEST(plain.report().maximize); // no objective: maximize
}

BOOST_AUTO_TEST_CASE(tolerates_odd_records) {
  Journal j;
  j.add({{"type", 7}});                                                  // type of the wrong kind
  j.add({{"no_type", true}});                                            // no type at all
  j.observe(1, point(20, "lru"), "not a number");                        // value of the wrong kind: skipped whole
  j.add({{"type", "observation"}, {"point", point(20, "lru")}, {"purpose", "candidate"}, {"failed", true},
         {"signals", {{"rps", "fast"}}}, {"window", 1}});                  // unscored, a signal of the wrong kind
  j.add({{"type", "decision"}, {"verdict", "keep"}});                    // bare decision
  j.add({{"type", "decision"}, {"verdict", "promote"}, {"value", 5.0}}); // decision without observation
  j.add({{"type", "refusal"}});                                          // no reason
  j.add({{"type", "incumbent"}, {"point", "oops"}, {"value", 5.0}});
  const auto report = j.report();
  BOOST_TEST(report.windows.size() == 2u);
  BOOST_TEST(!report.windows[0].value);
  BOOST_TEST(report.windows[1].index == 1); // a bare decision shares the index before it
  BOOST_TEST(report.windows[1].value.value_or(0) == 5.0);
  BOOST_TEST(report.counts.promotions == 1u);
  BOOST_TEST(report.counts.refusals.at("unknown") == 1u);
  BOOST_TEST(!report.incumbent);
  // The baseline falls back to the first observation's point; it was never measured.
  BOOST_REQUIRE(report.baseline);
  BOOST_TEST(!report.baseline_value);
  check_finite_text(render_history_svg(report));
  check_finite_text(render_report_html(report));
}

BOOST_AUTO_TEST_CASE(svg_has_one_marker_per_window) {
  const auto svg = render_history_svg(small_study().report());
  BOOST_TEST(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  BOOST_TEST(svg.find("</svg>") == svg.size() - 6);
  BOOST_TEST(count(svg, "class=\"marker ") == 6u);
  BOOST_TEST(count(svg, "class=\"marker promote\"") == 1u);
  BOOST_TEST(count(svg, "class=\"marker keep\"") == 3u);
  BOOST_TEST(count(svg, "class=\"marker rollback\"") == 1u);
  BOOST_TEST(count(svg, "class=\"marker discard\"") == 1u);
  for (int i = 0; i <= 5; ++i) BOOST_TEST(count(svg, "data-window=\"" + std::to_string(i) + "\"") == 1u);
  BOOST_TEST(count(svg, "data-purpose=\"baseline\"") == 1u);

  const auto promote = element_with(svg, "class=\"marker promote\"");
  BOOST_TEST(promote.rfind("<circle", 0) == 0);
  BOOST_TEST(promote.find("fill=\"#1f9d55\"") != std::string::npos);
  const auto keep = element_with(svg, "class=\"marker keep\"");
  BOOST_TEST(keep.find("fill=\"#8a939e\"") != std::string::npos);
  const auto rollback = element_with(svg, "class=\"marker rollback\"");
  BOOST_TEST(rollback.rfind("<path", 0) == 0); // an ×
  BOOST_TEST(rollback.find("stroke=\"#d64545\"") != std::string::npos);
  const auto discard = element_with(svg, "class=\"marker discard\"");
  BOOST_TEST(discard.find("fill=\"#ffffff\"") != std::string::npos); // hollow

  BOOST_TEST(count(svg, "class=\"incumbent\"") == 1u);
  BOOST_TEST(element_with(svg, "class=\"incumbent\"").find('V') != std::string::npos); // it steps
  BOOST_TEST(element_with(svg, "class=\"baseline\"").find("stroke-dasharray") != std::string::npos);
  for (const char* label : {"promote", "keep", "rollback", "discard", "incumbent", "baseline"})
    BOOST_TEST(svg.find(std::string(">") + label + "</text>") != std::string::npos);
  // Values 90…111: ticks every 5.
  for (const char* tick : {">85</text>", ">90</text>", ">95</text>", ">100</text>", ">110</text>", ">115</text>"})
    BOOST_TEST(svg.find(tick) != std::string::npos);
  // The categorical value reaches the tooltips only escaped.
  BOOST_TEST(svg.find("<script>") == std::string::npos);
  BOOST_TEST(svg.find("&lt;worse&gt;") != std::string::npos);
  BOOST_TEST(svg.find("policy = &lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  check_finite_text(svg);
}

BOOST_AUTO_TEST_CASE(measurements_between_candidates_sit_between_them) {
  // As the tuning loop writes them: the baseline is window 0, a remeasure and a window discarded
  // unscored share the index of the candidate before them.
  Journal j;
  j.observe(0, point(20, "lru"), 10.0, "baseline");
  j.decide(point(20, "lru"), "keep", 10, 10, 0, 1, "baseline measured");
  j.observe(1, point(21, "lru"), 11.0);
  j.decide(point(21, "lru"), "keep", 11, 10, 0.1, 0.3, "not better");
  j.observe(1, point(20, "lru"), 10.5, "remeasure");
  j.decide(point(20, "lru"), "keep", 10.5, 10, 0, 1, "incumbent measured again");
  j.add({{"type", "decision"}, {"point", point(22, "lru")}, {"verdict", "discard"}, {"reason", "load moved"},
         {"value", nullptr}, {"incumbent_value", 10.5}, {"effect", nullptr}, {"p_value", nullptr}});
  j.observe(2, point(23, "lru"), 12.0);
  j.decide(point(23, "lru"), "keep", 12, 10.5, 0.14, 0.2, "not better");
  const auto report = j.report();
  BOOST_TEST(report.windows.size() == 5u);
  const std::vector<std::int64_t> indices{0, 1, 1, 1, 2};
  for (std::size_t i = 0; i < indices.size(); ++i) BOOST_TEST(report.windows[i].index == indices[i]);
  BOOST_TEST(!report.windows[3].value);
  BOOST_TEST(report.baseline_value.value_or(0) == 10.0);

  // Markers stand left to right in journal order.
  const auto svg = render_history_svg(report);
  std::vector<double> xs;
  for (auto at = svg.find("class=\"marker "); at != std::string::npos; at = svg.find("class=\"marker ", at + 1)) {
    const auto cx = svg.find("cx=\"", at);
    xs.push_back(std::stod(svg.substr(cx + 4)));
  }
  BOOST_REQUIRE(xs.size() == 5u);
  for (std::size_t i = 1; i < xs.size(); ++i) BOOST_TEST(xs[i] > xs[i - 1]);
  BOOST_TEST(count(svg, "no-value") == 1u);
  check_finite_text(svg);
}

BOOST_AUTO_TEST_CASE(svg_of_an_empty_study) {
  const auto report = study_report_from_journal({});
  BOOST_TEST(report.windows.empty());
  const auto svg = render_history_svg(report);
  BOOST_TEST(svg.find("no windows yet") != std::string::npos);
  BOOST_TEST(count(svg, "class=\"marker ") == 0u);
  check_finite_text(svg);
}

BOOST_AUTO_TEST_CASE(svg_of_one_window_constant_and_negative_values) {
  Journal one;
  one.observe(1, point(20, "lru"), 42.0);
  const auto svg1 = render_history_svg(one.report());
  BOOST_TEST(count(svg1, "class=\"marker pending\"") == 1u); // no decision yet
  check_finite_text(svg1);

  Journal constant;
  for (int i = 1; i <= 4; ++i) {
    constant.observe(i, point(20, "lru"), 7.0);
    constant.decide(point(20, "lru"), "keep", 7, 7, 0, 1, "same");
  }
  const auto svg2 = render_history_svg(constant.report());
  BOOST_TEST(count(svg2, "class=\"marker keep\"") == 4u);
  check_finite_text(svg2);

  Journal zero;
  zero.observe(1, point(20, "lru"), 0.0);
  zero.decide(point(20, "lru"), "keep", 0, 0, 0, 1, "zero");
  check_finite_text(render_history_svg(zero.report()));

  Journal negative;
  negative.observe(1, point(20, "lru"), -0.25);
  negative.decide(point(20, "lru"), "keep", -0.25, -0.25, 0, 1, "");
  negative.observe(2, point(21, "lru"), -0.05);
  negative.decide(point(21, "lru"), "promote", -0.05, -0.25, 0.8, 0.01, "");
  const auto svg3 = render_history_svg(negative.report());
  for (const char* tick : {">-0.30</text>", ">-0.25</text>", ">-0.05</text>", ">0</text>"})
    BOOST_TEST(svg3.find(tick) != std::string::npos);
  BOOST_TEST(svg3.find("-0</text>") == std::string::npos);
  check_finite_text(svg3);

  Journal crossing; // ticks -2 … 3 in steps of 1, and a plain 0
  crossing.observe(1, point(20, "lru"), -1.5);
  crossing.decide(point(20, "lru"), "keep", -1.5, -1.5, 0, 1, "");
  crossing.observe(2, point(21, "lru"), 2.5);
  crossing.decide(point(21, "lru"), "promote", 2.5, -1.5, 2.6, 0.01, "");
  const auto svg5 = render_history_svg(crossing.report());
  for (const char* tick : {">-2</text>", ">-1</text>", ">0</text>", ">1</text>", ">2</text>", ">3</text>"})
    BOOST_TEST(svg5.find(tick) != std::string::npos);
  BOOST_TEST(svg5.find(">-0</text>") == std::string::npos);

  Journal huge;
  huge.observe(1, point(20, "lru"), 1.5e300);
  huge.decide(point(20, "lru"), "keep", 1.5e300, -1.5e300, 0, 1, "");
  huge.observe(2, point(20, "lru"), std::numeric_limits<double>::quiet_NaN());
  huge.observe(3, point(20, "lru"), std::numeric_limits<double>::infinity());
  huge.observe(4, point(20, "lru"), -std::numeric_limits<double>::max());
  const auto report = huge.report();
  BOOST_TEST(!report.windows[1].value);
  BOOST_TEST(!report.windows[2].value);
  const auto svg4 = render_history_svg(report, 0, 0); // silly sizes too
  BOOST_TEST(count(svg4, "class=\"marker ") == 4u);
  check_finite_text(svg4);
  check_finite_text(render_report_html(report));
}

BOOST_AUTO_TEST_CASE(status_page_escapes_and_shows_the_study) {
  const json::object live{{"live", true},
                          {"mode", "recommend-only"},
                          {"applied", {{"pool_size", 40}, {"policy", script}}},
                          {"unknown", 1}};
  const auto html = render_status_page(small_study().report(), live);
  BOOST_TEST(html.rfind("<!DOCTYPE html>", 0) == 0);
  BOOST_TEST(html.find("<title>trimtab</title>") != std::string::npos);
  BOOST_TEST(html.find("<meta http-equiv=\"refresh\" content=\"5\">") != std::string::npos);
  BOOST_TEST(html.find(">paused</span>") != std::string::npos);
  BOOST_TEST(html.find(">recommend-only</span>") != std::string::npos);
  BOOST_TEST(html.find("<svg xmlns") != std::string::npos);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  BOOST_TEST(html.find("regression: p99_ms &gt; 250 &amp; &lt;worse&gt;") != std::string::npos);
  BOOST_TEST(html.find("rps - 10 * errors") != std::string::npos);
  BOOST_TEST(html.find("applied now") != std::string::npos);
  BOOST_TEST(html.find("max_delta") != std::string::npos);
  BOOST_TEST(html.find("+10.0%") != std::string::npos);
  BOOST_TEST(html.find("&lt;0.001") == std::string::npos);
  BOOST_TEST(html.find("0.004") != std::string::npos);
  BOOST_TEST(html.find("http://") == html.find("http://www.w3.org/2000/svg")); // no external assets
  BOOST_TEST(count(html, "class=\"verdict verdict-") == 6u);
  check_finite_text(html);

  const auto quiet = render_status_page(small_study().report(), json::object{});
  BOOST_TEST(quiet.find("http-equiv=\"refresh\"") == std::string::npos);
  BOOST_TEST(quiet.find("last applied") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(report_page_has_no_live_parts) {
  const auto html = render_report_html(small_study().report());
  BOOST_TEST(html.find("http-equiv=\"refresh\"") == std::string::npos);
  BOOST_TEST(html.find("&lt;script&gt;") != std::string::npos);
  BOOST_TEST(html.find("<script") == std::string::npos);
  check_finite_text(html);

  const auto empty = render_report_html(study_report_from_journal({}));
  BOOST_TEST(empty.find("no windows yet") != std::string::npos);
  BOOST_TEST(empty.find("no decisions yet") != std::string::npos);
  BOOST_TEST(empty.find(">tuning</span>") != std::string::npos);
  check_finite_text(empty);
}

BOOST_AUTO_TEST_CASE(page_lists_the_last_twenty_decisions) {
  Journal j;
  for (int i = 1; i <= 30; ++i) {
    j.observe(i, point(20 + i, "lru"), 100.0 + i);
    j.decide(point(20 + i, "lru"), "keep", 100 + i, 100, 0.01 * i, 0.5, "note");
  }
  const auto report = j.report();
  const auto html = render_report_html(report);
  BOOST_TEST(count(html, "class=\"verdict verdict-keep\"") == 20u);
  BOOST_TEST(html.find(">30</td>") != std::string::npos); // newest first
  BOOST_TEST(html.find(">10</td>") == std::string::npos); // older ones left out
  BOOST_TEST(count(render_history_svg(report), "class=\"marker keep\"") == 30u);
}

BOOST_AUTO_TEST_CASE(windows_carry_their_signals) {
  const auto report = drifting_study().report();
  BOOST_REQUIRE(report.windows.size() == 12u);
  const auto& signals = report.windows[0].signals;
  BOOST_TEST(signals.size() == 3u);
  BOOST_TEST(signals.at("p99_ms").value_or(0) == 53.0 + jitter(41));
  BOOST_TEST(!signals.at("hit_ratio"));
}

BOOST_AUTO_TEST_CASE(trends_of_the_objective_and_each_signal) {
  const auto report = drifting_study().report();
  // The objective first, then the signals by name.
  BOOST_REQUIRE(report.trends.size() == 4u);
  BOOST_TEST(report.trends[0].name == "objective");
  BOOST_TEST(report.trends[1].name == "hit_ratio");
  BOOST_TEST(report.trends[2].name == "p99_ms");
  BOOST_TEST(report.trends[3].name == "rps");

  const auto& objective = report.trends[0];
  BOOST_TEST((objective.goodness == Goodness::lower_better)); // minimized
  BOOST_REQUIRE(objective.trend);
  BOOST_TEST(objective.trend->direction == -1);
  BOOST_TEST(objective.trend->slope == -2.0, boost::test_tools::tolerance(0.25));
  BOOST_TEST(objective.label == "improving");
  BOOST_TEST(objective.windows_used == 12u);

  const auto& p99 = report.trends[2];
  BOOST_TEST((p99.goodness == Goodness::lower_better)); // from "p99_ms <= 100"
  BOOST_REQUIRE(p99.trend);
  BOOST_TEST(p99.trend->slope == 3.0, boost::test_tools::tolerance(0.2));
  BOOST_TEST(p99.trend->p_value < 0.001);
  BOOST_TEST(p99.label == "degrading");
  BOOST_TEST(p99.anomalous_windows.empty());

  const auto& rps = report.trends[3]; // no constraint names it; no drift
  BOOST_TEST((rps.goodness == Goodness::unknown));
  BOOST_TEST(rps.label == "stable");

  const auto& hit_ratio = report.trends[1]; // never a number
  BOOST_TEST(!hit_ratio.trend);
  BOOST_TEST(hit_ratio.windows_used == 0u);
  BOOST_TEST(hit_ratio.label == "too few windows");

  // Goodness supplied by the caller instead; without it a signal only rises or falls.
  auto again = report;
  compute_trends(again, {{"rps", Goodness::higher_better}});
  BOOST_TEST(again.trends.size() == 4u);
  BOOST_TEST(trend_named(again, "p99_ms")->label == "rising");
  BOOST_TEST((trend_named(again, "rps")->goodness == Goodness::higher_better));
  BOOST_TEST(trend_named(again, "objective")->label == "improving");
}

BOOST_AUTO_TEST_CASE(trends_look_at_the_last_twenty_windows) {
  Journal j;
  // Rising for 20 windows, then flat for 20: only the flat part counts.
  for (int i = 1; i <= 40; ++i) observe_signals(j, i, i <= 20 ? i : 20 + 0.1 * jitter(i), {{"rps", 5.0}});
  const auto report = j.report();
  const auto* objective = trend_named(report, "objective");
  BOOST_REQUIRE(objective);
  BOOST_TEST(objective->windows_used == 20u);
  BOOST_TEST(objective->label == "stable");
  BOOST_TEST(trend_named(report, "rps")->label == "stable"); // constant
}

BOOST_AUTO_TEST_CASE(anomalous_windows_are_reported_and_ringed) {
  Journal j;
  for (int i = 1; i <= 15; ++i)
    observe_signals(j, i, i == 11 ? 300.0 : 100.0 + jitter(i), {{"p99_ms", i == 8 ? 900.0 : 80.0 + jitter(i + 7)}});
  auto report = j.report();
  const auto* objective = trend_named(report, "objective");
  BOOST_REQUIRE(objective);
  BOOST_TEST(objective->anomalous_windows == std::vector<std::int64_t>{11}, boost::test_tools::per_element());
  BOOST_TEST(trend_named(report, "p99_ms")->anomalous_windows == std::vector<std::int64_t>{8},
             boost::test_tools::per_element());
  for (const auto& window : report.windows) BOOST_TEST(window.anomaly == (window.index == 11));

  const auto svg = render_history_svg(report);
  BOOST_TEST(count(svg, "class=\"marker ") == 15u);
  BOOST_TEST(count(svg, "class=\"marker keep\"") == 14u);
  BOOST_TEST(count(svg, "class=\"marker keep anomaly\"") == 1u);
  BOOST_TEST(element_with(svg, "class=\"marker keep anomaly\"").find("data-window=\"11\"") != std::string::npos);
  BOOST_TEST(count(svg, "class=\"anomaly-ring\"") == 1u);
  BOOST_TEST(svg.find(">anomaly</text>") != std::string::npos); // in the legend
  check_finite_text(svg);

  const auto html = render_report_html(report);
  BOOST_TEST(html.find("<td>11</td>") != std::string::npos);
  BOOST_TEST(html.find("<td>8</td>") != std::string::npos);

  // No anomaly: no ring, no legend entry.
  const auto plain = render_history_svg(small_study().report());
  BOOST_TEST(plain.find("anomaly") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(improvement_is_signed_so_positive_is_better) {
  BOOST_TEST(small_study().report().improvement.value_or(0) == 0.1, boost::test_tools::tolerance(1e-12));

  const auto study = [](const char* direction, double baseline, std::optional<double> incumbent) {
    Journal j;
    j.add(start(direction, "x"));
    j.observe(0, point(20, "lru"), baseline, "baseline");
    if (incumbent) j.add({{"type", "incumbent"}, {"point", point(30, "lru")}, {"value", *incumbent}});
    return j.report();
  };
  BOOST_TEST(study("maximize", 200, 150).improvement.value_or(0) == -0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(study("minimize", 200, 150).improvement.value_or(0) == 0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(study("minimize", 200, 250).improvement.value_or(0) == -0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(study("maximize", -200, -150).improvement.value_or(0) == 0.25, boost::test_tools::tolerance(1e-12));
  // A baseline of 0: the difference, as decisions' effect does.
  BOOST_TEST(study("minimize", 0, 3).improvement.value_or(0) == -3.0);
  BOOST_TEST(!study("maximize", 200, std::nullopt).improvement);
  BOOST_TEST(!study_report_from_journal({}).improvement);

  const auto html = render_report_html(study("minimize", 200, 150));
  // Before the study's claim, the improvement is as measured, and says so.
  BOOST_TEST(html.find("improvement vs baseline</dt><dd class=\"improvement\">+25.0% (as measured)</dd>") != std::string::npos);
  BOOST_TEST(render_report_html(study("minimize", 0, 3)).find(">-3 (as measured)</dd>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(goodness_from_simple_constraints) {
  const auto goodness = goodness_from_constraints({"p99_ms <= 100", "error_ratio < 0.01", "hit_ratio>=0.9",
                                                   " rps > 2 * 50 ", "queue.depth < 5", "errors / rps < 0.01",
                                                   "100 >= p50_ms", "abs(drift) < 1", "not a constraint",
                                                   "wait_ms >= 1", "wait_ms <= 50", "p99_ms < 200"});
  const std::map<std::string, Goodness> expected{{"p99_ms", Goodness::lower_better},
                                                 {"error_ratio", Goodness::lower_better},
                                                 {"hit_ratio", Goodness::higher_better},
                                                 {"rps", Goodness::higher_better},
                                                 {"queue.depth", Goodness::lower_better}};
  BOOST_TEST(goodness.size() == expected.size());
  for (const auto& [name, way] : expected) {
    BOOST_REQUIRE(goodness.count(name) == 1u);
    BOOST_TEST((goodness.at(name) == way), name);
  }
  BOOST_TEST(goodness_from_constraints({}).empty());
}

BOOST_AUTO_TEST_CASE(statistics_json_has_the_keys) {
  const auto stats = study_statistics_json(small_study().report());
  for (const char* key : {"windows", "promotions", "rollbacks", "keeps", "discards", "apply_failures", "refusals",
                          "refusals_total", "baseline_value", "incumbent_value", "improvement", "trends"})
    BOOST_TEST(stats.contains(key), key);
  BOOST_TEST(stats.at("windows").as_uint64() == 6u);
  BOOST_TEST(stats.at("promotions").as_uint64() == 1u);
  BOOST_TEST(stats.at("keeps").as_uint64() == 3u);
  BOOST_TEST(stats.at("refusals").as_object().at("max_delta").as_uint64() == 1u);
  BOOST_TEST(stats.at("refusals_total").as_uint64() == 1u);
  BOOST_TEST(stats.at("baseline_value").as_double() == 100.0);
  BOOST_TEST(stats.at("incumbent_value").as_double() == 110.0);
  BOOST_TEST(stats.at("improvement").as_double() == 0.1, boost::test_tools::tolerance(1e-12));
  const auto& trends = stats.at("trends").as_array();
  BOOST_REQUIRE(trends.size() == 2u); // objective, rps
  const auto& objective = trends[0].as_object();
  for (const char* key : {"signal", "label", "slope", "p_value", "windows", "anomalous_windows"})
    BOOST_TEST(objective.contains(key), key);
  BOOST_TEST(objective.at("signal").as_string() == "objective");
  BOOST_TEST(objective.at("windows").as_uint64() == 6u);
  BOOST_TEST(objective.at("slope").is_double());
  BOOST_TEST(objective.at("anomalous_windows").as_array().empty());

  // Nothing known yet: nulls, never a missing key.
  const auto empty = study_statistics_json(study_report_from_journal({}));
  BOOST_TEST(empty.at("baseline_value").is_null());
  BOOST_TEST(empty.at("improvement").is_null());
  const auto& none = empty.at("trends").as_array().at(0).as_object();
  BOOST_TEST(none.at("slope").is_null());
  BOOST_TEST(none.at("p_value").is_null());
  BOOST_TEST(none.at("label").as_string() == "too few windows");

  const auto drifting = study_statistics_json(drifting_study().report());
  const auto& p99 = drifting.at("trends").as_array().at(2).as_object();
  BOOST_TEST(p99.at("signal").as_string() == "p99_ms");
  BOOST_TEST(p99.at("label").as_string() == "degrading");
  BOOST_TEST(p99.at("p_value").as_double() < 0.001);
}

BOOST_AUTO_TEST_CASE(page_shows_the_trends) {
  const auto html = render_status_page(drifting_study().report(), json::object{});
  BOOST_TEST(html.find("<h2>trends</h2>") != std::string::npos);
  BOOST_TEST(html.find("<td class=\"trend-degrading\"") != std::string::npos); // p99_ms
  BOOST_TEST(html.find("<td class=\"trend-improving\"") != std::string::npos); // the objective
  BOOST_TEST(html.find("<td class=\"trend-too-few-windows\"") != std::string::npos); // hit_ratio
  BOOST_TEST(html.find("<td>p99_ms</td>") != std::string::npos);
  BOOST_TEST(html.find("improvement vs baseline") != std::string::npos);
  check_finite_text(html);
  check_finite_text(render_report_html(study_report_from_journal({})));
}

BOOST_AUTO_TEST_CASE(recommend_mode_shows_its_advice_and_evidence_until_a_switch_to_apply) {
  Journal j;
  auto first = start("maximize", "rps");
  first["mode"] = "recommend";
  j.add(first);
  j.observe(0, point(20, "lru"), 100.0, "baseline");
  j.add({{"type", "recommendation"},
         {"running", point(20, "lru")},
         {"running_windows", 4},
         {"running_value", 100.0},
         {"point", point(30, "lfu")},
         {"value", 172.0},
         {"windows", 3},
         {"effect", 0.72},
         {"p_value", 0.001},
         {"confidence", 0.999},
         {"reason", "better by 72% over 3 window(s) against 4 of what runs (confidence 99.9%)"}});
  auto report = j.report();
  BOOST_TEST(report.mode == "recommend");
  BOOST_REQUIRE(report.recommendation);
  const auto page = render_report_html(report);
  BOOST_TEST(page.find("<h2>recommendation</h2>") != std::string::npos);
  BOOST_TEST(page.find("recommend-only") != std::string::npos);
  BOOST_TEST(page.find("better by 72% over 3 window(s)") != std::string::npos);
  BOOST_TEST(page.find("+72 %") != std::string::npos);
  BOOST_TEST(page.find("99.9 %") != std::string::npos);
  BOOST_TEST(page.find("pool_size = 30") != std::string::npos);

  j.add({{"type", "mode"}, {"mode", "apply"}, {"source", "control"}});
  report = j.report();
  BOOST_TEST(report.mode == "apply");
  BOOST_TEST(!report.recommendation);
  BOOST_TEST(render_report_html(report).find("<h2>recommendation</h2>") == std::string::npos);
}

// A long-running agent keeps only its last windows; the report must say what the whole study
// says: counts, the baseline and its value (from windows long forgotten), the improvement, the
// trends, and the recent windows themselves.
BOOST_AUTO_TEST_CASE(a_window_limit_forgets_old_windows_but_not_what_they_said) {
  // Two studies: one whose baseline is a measured baseline window, one whose baseline value comes
  // from the first window (a remeasure of what ran) with no start record naming a baseline.
  for (const bool named_baseline : {true, false}) {
    Journal j;
    if (named_baseline) {
      j.add(start("maximize", "rps"));
      j.observe(0, point(20, "lru"), 100.0, "baseline");
    } else {
      j.observe(0, point(20, "lru"), 100.0, "remeasure");
    }
    j.decide(point(20, "lru"), "keep", 100, 100, 0, 1, "baseline measured");
    double best = 100;
    for (int window = 1; window <= 500; ++window) {
      const double value = 90 + (window * 37 % 41) + window * 0.05;
      j.apply(point(10 + window % 50, window % 2 ? "lfu" : "lru"), "candidate");
      j.observe(window, point(10 + window % 50, window % 2 ? "lfu" : "lru"), value);
      const bool promote = value > best;
      if (promote) best = value;
      j.decide(point(10 + window % 50, "lfu"), promote ? "promote" : "rollback", value, best, 0.1, 0.01, "x");
      if (window % 8 == 0) j.add({{"type", "incumbent"}, {"point", point(20, "lru")}, {"value", best}});
    }
    StudyFold bounded(40), whole;
    for (const auto& record : j.records()) {
      bounded.add(record);
      whole.add(record);
    }
    const auto limited = bounded.report(), full = whole.report();
    BOOST_TEST(full.windows.size() == 501u);
    BOOST_TEST(limited.windows.size() <= 50u);
    BOOST_TEST(limited.windows.size() >= 40u);
    BOOST_TEST(limited.windows.back().index == full.windows.back().index);
    BOOST_TEST(limited.windows.front().index == full.windows[full.windows.size() - limited.windows.size()].index);
    BOOST_TEST(limited.counts.windows == full.counts.windows);
    BOOST_TEST(limited.counts.promotions == full.counts.promotions);
    BOOST_TEST(limited.counts.rollbacks == full.counts.rollbacks);
    BOOST_TEST_REQUIRE(limited.baseline.has_value());
    BOOST_TEST((*limited.baseline == *full.baseline));
    BOOST_TEST_REQUIRE(full.baseline_value.has_value());
    BOOST_TEST((limited.baseline_value == full.baseline_value));
    BOOST_TEST_REQUIRE(full.improvement.has_value());
    BOOST_TEST((limited.improvement == full.improvement));
    BOOST_TEST_REQUIRE(limited.trends.size() == full.trends.size());
    for (std::size_t i = 0; i < full.trends.size(); ++i) {
      BOOST_TEST(limited.trends[i].label == full.trends[i].label);
      BOOST_TEST(limited.trends[i].anomalous_windows == full.trends[i].anomalous_windows);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
