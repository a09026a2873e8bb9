#include <boost/test/unit_test.hpp>

#include <sstream>

#include <boost/json.hpp>

#include <trimtab/agent/solve_session.hpp>
#include <trimtab/core/make_solver.hpp>

#include "../core/test_spaces.hpp"

using namespace trimtab;
namespace json = boost::json;

namespace {

struct Run {
  SolveExit exit;
  std::vector<json::value> out; // one parsed object per output line
  std::string err;
};

Run run(const std::string& kind, const std::string& input, std::size_t budget = 100,
        Direction direction = Direction::minimize) {
  auto solver = make_solver(kind, test::small_discrete_space(), {direction, 1});
  std::istringstream in(input);
  std::ostringstream out, err;
  Run result{run_solve_session(*solver, budget, in, out, err), {}, err.str()};
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) result.out.push_back(json::parse(line));
  return result;
}

std::string results(std::initializer_list<std::string> lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(solve_session)

BOOST_AUTO_TEST_CASE(proposes_reads_results_and_reports_the_best) {
  const auto r = run("grid", results({R"({"id": 0, "value": 5})", R"({"id": 1, "value": 2.5})",
                                      R"({"id": 2, "failed": true})", R"({"id": 3, "value": 4})"}),
                     4);
  BOOST_TEST(static_cast<int>(r.exit) == 0);
  BOOST_TEST(r.err.empty());
  BOOST_REQUIRE(r.out.size() == 5u);
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(r.out[i].at("id").as_int64() == static_cast<std::int64_t>(i));
    BOOST_TEST(r.out[i].at("params").as_object().size() == 3u);
  }
  // Each proposal names the incumbent so far: none before the first result, then the best id.
  BOOST_TEST(!r.out[0].as_object().contains("incumbent"));
  BOOST_TEST(r.out[1].at("incumbent").as_int64() == 0);
  BOOST_TEST(r.out[2].at("incumbent").as_int64() == 1);
  BOOST_TEST(r.out[3].at("incumbent").as_int64() == 1);
  const auto& summary = r.out.back().as_object();
  BOOST_TEST(summary.at("evaluations").as_int64() == 4);
  BOOST_TEST(summary.at("best").at("id").as_int64() == 1);
  BOOST_TEST(summary.at("best").at("value").as_double() == 2.5);
  BOOST_TEST((summary.at("best").at("params") == r.out[1].at("params")));
}

BOOST_AUTO_TEST_CASE(maximizes_when_asked) {
  const auto r = run("random", results({R"({"id": 0, "value": 5})", R"({"id": 1, "value": 7})"}), 2,
                     Direction::maximize);
  BOOST_TEST(r.out.back().at("best").at("id").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(constraints_decide_feasibility) {
  const auto r = run("grid", results({R"({"id": 0, "value": 1, "constraints": [3]})",
                                      R"({"id": 1, "value": 9, "constraints": [-2, 0]})"}),
                     2);
  BOOST_TEST(r.out.back().at("best").at("id").as_int64() == 1);
  BOOST_TEST(r.out.back().at("best").at("constraints").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(results_may_carry_their_standard_error) {
  // Grid proposals in order; the sem reaches the solver (it is echoed in the best line).
  const auto r = run("grid", results({R"({"id": 0, "value": 5, "sem": 0.5})", R"({"id": 1, "value": 2.5, "sem": 0.25})"}), 2);
  BOOST_TEST(static_cast<int>(r.exit) == 0, r.err);
  BOOST_TEST(r.out.back().at("best").at("id").as_int64() == 1);
  BOOST_TEST(r.out.back().at("best").at("sem").as_double() == 0.25);
}

BOOST_AUTO_TEST_CASE(stops_when_the_grid_is_exhausted) {
  std::string input;
  for (int i = 0; i < 30; ++i) input += R"({"id": )" + std::to_string(i) + R"(, "value": )" + std::to_string(i) + "}\n";
  const auto r = run("grid", input, 100);
  BOOST_TEST(static_cast<int>(r.exit) == 0);
  BOOST_TEST(r.out.size() == 25u); // 24 proposals, then the summary
  BOOST_TEST(r.out.back().at("evaluations").as_int64() == 24);
}

BOOST_AUTO_TEST_CASE(all_failed_means_no_best) {
  const auto r = run("grid", results({R"({"id": 0, "failed": true})"}), 1);
  BOOST_TEST(r.out.back().at("best").is_null());
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_named_and_end_the_run) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{\"id\": 0, \"value\": 1}\n\n{oops\n", "input line 3: not valid JSON"},
      {R"({"id": 1, "value": 1})", "input line 1: 'id' is 1 but the open proposal is 0"},
      {R"({"value": 1})", "input line 1: no 'id'"},
      {R"({"id": 0})", "input line 1: no 'value' (report a candidate that could not be measured as \"failed\": true)"},
      {R"({"id": 0, "value": "fast"})", "input line 1: 'value' must be a finite number"},
      {R"({"id": 0, "value": 1e999})", "input line 1: 'value' must be a finite number"},
      {R"({"id": 0, "vlaue": 1})", "input line 1: unknown key 'vlaue'"},
      {R"({"id": 0, "failed": "yes"})", "input line 1: 'failed' must be true or false"},
      {R"({"id": 0, "value": 1, "constraints": 3})", "input line 1: 'constraints' must be a list of numbers"},
      {R"({"id": 0, "value": 1, "sem": -0.5})", "input line 1: 'sem' must be a finite number >= 0 (the value's standard error)"},
      {R"({"id": 0, "value": 1, "sem": "small"})", "input line 1: 'sem' must be a finite number >= 0 (the value's standard error)"},
      {R"([0, 1])", "input line 1: expected a JSON object"},
      {"", "input ended before the result for id 0"},
  };
  for (const auto& [input, message] : cases) {
    const auto r = run("random", input + "\n");
    BOOST_TEST(static_cast<int>(r.exit) == 2, input);
    BOOST_TEST(r.err.find("trimtab solve: " + message) == 0, r.err);
  }
}

BOOST_AUTO_TEST_CASE(history_warm_starts_and_is_checked_line_by_line) {
  const auto space = test::small_discrete_space();
  std::istringstream good(R"({"params": {"a": 1, "b": 2, "c": "y"}, "value": 0.5}
{"params": {"a": 2, "b": 8, "c": "x"}, "failed": true}
)");
  const auto trials = read_history(space, good, "h.jsonl");
  BOOST_TEST(trials.size() == 2u);
  BOOST_TEST(trials[1].observation.failed);

  auto solver = make_solver("grid", space, {});
  solver->seed(trials);
  std::istringstream in(R"({"id": 0, "value": 3})" "\n");
  std::ostringstream out, err;
  BOOST_TEST(static_cast<int>(run_solve_session(*solver, 1, in, out, err)) == 0);
  const auto summary = json::parse(out.str().substr(out.str().find("{\"best\"")));
  BOOST_TEST(summary.at("best").at("from_history").as_bool());

  std::istringstream bad("\n{\"params\": {\"a\": 1, \"b\": 3, \"c\": \"y\"}, \"value\": 1}\n");
  try {
    (void)read_history(space, bad, "h.jsonl");
    BOOST_FAIL("a bad history line was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "h.jsonl:2: param 'b': '3' is not one of the choices");
  }
}

BOOST_AUTO_TEST_SUITE_END()
