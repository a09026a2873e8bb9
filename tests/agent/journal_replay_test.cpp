// Journals written by earlier builds, replayed by this one: the on-disk format is a contract with
// every state directory already out there, so the state a journal replays to must not drift.
//
// tests/data/journals/NAME/ holds a journal.jsonl written by a real run (docs/journal.md), the
// tuning.yaml it ran with (addresses and paths neutralised: replay reads neither), and
// replayed.json, the state this suite derives from them: what the loop and the status page's fold
// hold after the replay, and the actions the loop takes when it starts again. A change that alters
// any of it fails here; if the change is meant, regenerate replayed.json with
// TRIMTAB_WRITE_REPLAYED=1 and review the diff.
//
//   demo      `trimtab demo --budget 8 --seed 3`: candidates, promotions, rollbacks, the claim,
//             the study's end and the guard
//   operator  `trimtab run` against tests/agent/test_service.py in recommend mode with offline
//             results, then `trimtab apply` (switchback pairs), pause, resume, recommend
//   failures  applies the service refuses (apply_failed), a paced apply (a refusal), safe mode
//             after a rollback, and a restart with TRIMTAB_ENABLED=false
// The generators are tests/data/journals/make_*.py; what they produce varies with timing, so the
// committed journals are the reference, not the scripts' next output.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <boost/json.hpp>

#include <trimtab/agent/agent.hpp>
#include <trimtab/agent/journal.hpp>
#include <trimtab/agent/solve_session.hpp>
#include <trimtab/agent/study_fold.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/make_solver.hpp>
#include <trimtab/core/point_json.hpp>
#include <trimtab/core/tuning_loop.hpp>

using namespace trimtab;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

fs::path journals_dir() { return fs::path(TRIMTAB_SOURCE_DIR) / "tests" / "data" / "journals"; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json::value optional_number(std::optional<double> v) { return v ? json::value(*v) : json::value(nullptr); }

json::object evidence_json(const PooledEvidence& e) {
  return {{"mean", e.mean}, {"sem", e.sem}, {"windows", e.windows}};
}

json::value action_json(const Space& space, const LoopAction& action, TimePoint now) {
  return std::visit(
      [&](const auto& a) -> json::value {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, RecordAction>) {
          return json::object{{"record", encode_record(a.record)}};
        } else if constexpr (std::is_same_v<A, ApplyAction>) {
          return json::object{{"apply", point_to_json(space, a.point)}, {"purpose", purpose_name(a.purpose)}};
        } else if constexpr (std::is_same_v<A, WakeAction>) {
          return json::object{
              {"wake_after_ms", std::chrono::duration_cast<std::chrono::milliseconds>(a.at - now).count()}};
        } else {
          return json::object{{"save_best", point_to_json(space, a.point)}, {"value", a.value}};
        }
      },
      action);
}

// Everything a replay leaves behind that a restart acts on or an operator sees.
json::object replayed_state(const std::string& name) {
  const auto dir = journals_dir() / name;
  const auto config = load_tuning_config(dir / "tuning.yaml");
  const auto& space = config.space;
  TuningLoop loop(make_solver(config.solver.kind, space, SolverOptions{config.policy.direction, config.solver.seed}),
                  config.policy);
  if (!config.solver.history.empty()) {
    std::ifstream history(dir / config.solver.history);
    BOOST_REQUIRE_MESSAGE(history, "cannot read " << (dir / config.solver.history));
    loop.seed(read_history(space, history, config.solver.history.string()));
  }

  // A copy: opening a journal may append to it and compact it.
  const auto scratch = fs::temp_directory_path() / ("trimtab-replay-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fs::copy_file(dir / "journal.jsonl", scratch / "journal.jsonl");
  StudyFold fold;
  auto replay = loop.begin_replay();
  std::size_t records = 0;
  std::int64_t last_time_ms = 0;
  {
    auto journal = Journal::open(scratch, [&](json::object record) {
      fold.add(record);
      last_time_ms = record.at("time").to_number<std::int64_t>();
      loop.replay_record(replay, record);
      ++records;
    });
    BOOST_CHECK_EQUAL(journal.recovered_bytes(), 0u);
  }
  fs::remove_all(scratch);
  loop.finish_replay(std::move(replay));

  json::object state;
  state["records"] = records;
  state["incumbent"] = loop.incumbent() ? json::value(point_to_json(space, *loop.incumbent())) : json::value(nullptr);
  state["incumbent_value"] = optional_number(loop.incumbent_value());
  state["windows_scored"] = loop.windows_scored();
  state["paused"] = loop.paused();
  state["safe_mode"] = loop.in_safe_mode();
  state["mode"] = mode_name(loop.mode());
  state["claim"] = loop.claim() ? json::value(encode_record(*loop.claim())) : json::value(nullptr);
  state["guard_reference"] = loop.guard_reference() ? json::value(evidence_json(*loop.guard_reference())) : json::value(nullptr);
  const auto last = TimePoint{std::chrono::milliseconds(last_time_ms)};
  const auto now = last + std::chrono::seconds(1);
  state["rollbacks_in_last_hour"] = loop.guardrails().rollbacks_in_last_hour(now);
  if (loop.incumbent()) state["incumbent_evidence"] = evidence_json(loop.evidence().pooled(*loop.incumbent()));

  const auto& solver = loop.solver();
  json::object solver_state{{"measurements", solver.measurements()}, {"configurations", solver.history().size()}};
  if (const auto* best = solver.best())
    solver_state["best"] = json::object{{"point", point_to_json(space, best->point)}, {"value", best->value()}};
  state["solver"] = std::move(solver_state);

  const auto report = fold.report();
  state["fold"] = json::object{{"statistics", study_statistics_json(report)}, {"state", study_state(report)},
                               {"windows", report.windows.size()}};

  // What a restart does first, from the baseline (the running configuration the adapters would
  // read back on a fresh service).
  json::array actions;
  const auto baseline = report.baseline ? point_from_json(space, *report.baseline) : space.default_point();
  for (const auto& action : loop.start(now, baseline)) {
    actions.push_back(action_json(space, action, now));
  }
  state["start_actions"] = std::move(actions);
  return state;
}

void check_replay(const std::string& name) {
  const auto state = replayed_state(name);
  const auto expected_path = journals_dir() / name / "replayed.json";
  if (std::getenv("TRIMTAB_WRITE_REPLAYED") != nullptr) {
    std::ofstream(expected_path) << json::serialize(state) << '\n';
    BOOST_TEST_MESSAGE("wrote " << expected_path);
    return;
  }
  const auto expected = json::parse(read_text(expected_path));
  BOOST_CHECK_MESSAGE(json::value(state) == expected, name << ": the journal replays to a different state.\nnow:      "
                                                           << json::serialize(state)
                                                           << "\nexpected: " << json::serialize(expected));
}

} // namespace

BOOST_AUTO_TEST_SUITE(journal_replay)

BOOST_AUTO_TEST_CASE(a_demo_study_replays_to_the_state_it_left) { check_replay("demo"); }

BOOST_AUTO_TEST_CASE(an_operated_study_replays_to_the_state_it_left) { check_replay("operator"); }

BOOST_AUTO_TEST_CASE(a_failing_study_replays_to_the_state_it_left) { check_replay("failures"); }

BOOST_AUTO_TEST_SUITE_END()
