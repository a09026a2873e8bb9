// libFuzzer target for TuningLoop::replay: a restart rebuilds the study from STATE_DIR's
// journal.jsonl, which a crash, a full disk, an old version or a careless edit may have left in
// any shape. replay() may refuse records with std::invalid_argument (its documented error, which
// names the record); anything else, another exception, a crash, a read out of bounds (ASan) or
// undefined behaviour (UBSan), is a bug. After a replay that succeeds, the loop must also start
// and run on the state it rebuilt without throwing.
//
// The input is a control byte, then journal lines: each line that boost::json reads as an object
// is a record, the others are skipped (Journal::open refuses them before replay sees them). The
// control byte's low bits choose the policy: 1 recommend mode, 2 disabled, 4 switchback with two
// pairs, 8 a load signal; 0x10 maximize rather than minimize (so '0'..'9' maximize). The loop
// tunes a pool size (int 1..64) and an eviction policy (lru, lfu, random) against one rate
// signal, with a random solver; after start() it is driven for 16 events: applies
// succeed, scrapes come every second with a request rate that depends on the pool.
//
// Found here and fixed: a record's "time" beyond the clock's range (a time written in
// microseconds, a double beyond 2^63) or a negative "samples_count" overflowed conversions in
// replay(); it now refuses them with std::invalid_argument. Their inputs are in the corpus.
//
// Journal::open's own line reading (agent/src/journal.cpp) works on the file it opens and locks,
// so it is not fuzzed here; its checks on seq, time and type come before replay() in the agent,
// and inputs here need not pass them.
//
//   scripts/fuzz.sh builds it (build-fuzz/fuzz/journal_replay_fuzz) and runs it on
//   fuzz/corpus/journal_replay/.

#include <trimtab/core/make_solver.hpp>
#include <trimtab/core/tuning_loop.hpp>

#include "fuzz_input.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace trimtab;
using namespace std::chrono_literals;

namespace {

Space fuzz_space() {
  return Space({Param{"pool", IntRange{1, 64, 1, false}, Value{std::int64_t{8}}, std::nullopt},
                Param{"policy", CategoricalChoices{{"lru", "lfu", "random"}}, Value{std::string("lru")}, std::nullopt}});
}

TuningPolicy fuzz_policy(std::uint8_t control) {
  TuningPolicy policy;
  policy.direction = control & 0x10 ? Direction::maximize : Direction::minimize;
  policy.objective = Expression::parse("rps");
  policy.signals = {SignalSpec::rate("rps", "requests_total")};
  policy.settle = 1s;
  policy.duration = 6s;
  policy.min_samples = 5;
  policy.budget = 6;
  policy.required_improvement = Amount{5.0, true};
  policy.guardrails.max_delta = {Amount{8.0, false}, std::nullopt};
  policy.guardrails.max_updates_per_second = 1.0;
  policy.guardrails.min_dwell = 0s;
  policy.guardrails.max_rollbacks_per_hour = 3;
  policy.remeasure_every = 3;
  policy.mode = control & 0x01 ? TuningMode::recommend : TuningMode::apply;
  policy.enabled = (control & 0x02) == 0;
  if (control & 0x04) {
    policy.switchback_pairs = 2;
    policy.switchback_duration = 6s;
  }
  if (control & 0x08) policy.load_signal = "rps";
  return policy;
}

// Carries out the loop's actions for a bounded number of events: applies succeed at once, the
// timer fires when asked, and a scrape comes every second before it.
class Driver {
public:
  explicit Driver(TuningLoop& loop) : loop_(loop) {}

  void run(std::vector<LoopAction> actions) {
    while (events_ < max_events) {
      std::optional<TimePoint> wake;
      bool applied = false;
      for (auto& action : actions) {
        if (std::holds_alternative<ApplyAction>(action)) {
          service_ = std::get<ApplyAction>(action).point;
          applied = true;
        } else if (const auto* w = std::get_if<WakeAction>(&action)) {
          wake = w->at;
        }
      }
      ++events_;
      if (applied) {
        actions = loop_.on_apply_done(now_);
      } else if (wake) {
        scrape_until(*wake);
        actions = loop_.on_timer(now_);
      } else {
        return; // nothing left to wait for (done, paused)
      }
    }
  }

  TimePoint now_ = TimePoint{} + 1'700'000'000s;

private:
  static constexpr int max_events = 16;
  static constexpr int max_scrapes = 8; // per wait: a far wake (safe mode) is jumped to

  void scrape_until(TimePoint at) {
    for (int i = 0; i < max_scrapes && now_ + 1s <= at; ++i) {
      now_ += 1s;
      counter_ += 100.0 + static_cast<double>(std::get<std::int64_t>(service_.values.at(0)));
      Scrape scrape;
      scrape.time_seconds = std::chrono::duration<double>(now_.time_since_epoch()).count();
      scrape.values["requests_total"][{}] = counter_;
      (void)loop_.on_scrape(now_, std::move(scrape));
    }
    now_ = std::max(now_, at);
  }

  TuningLoop& loop_;
  Point service_ = fuzz_space().default_point();
  double counter_ = 0;
  int events_ = 0;
};

} // namespace

// One run covers much of trimtab::core, so libFuzzer's entropic schedule, which updates the
// frequency of every feature a run hits, costs more than the run: without it this target runs
// about 2.5 times as many inputs, and finds more. The flag goes first, so one given on the command
// line still wins.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static std::vector<char*> arguments;
  static char entropic_off[] = "-entropic=0";
  arguments.assign(*argv, *argv + *argc);
  arguments.insert(arguments.begin() + (arguments.empty() ? 0 : 1), entropic_off);
  arguments.push_back(nullptr);
  *argc = static_cast<int>(arguments.size()) - 1;
  *argv = arguments.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = trimtab::fuzz::text_of(data, size);
  const auto control = trimtab::fuzz::take_control_byte(text);

  std::vector<boost::json::object> records;
  for (const auto line : trimtab::fuzz::split_lines(text)) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    records.push_back(std::move(value.get_object()));
  }

  const auto space = fuzz_space();
  const auto policy = fuzz_policy(control);
  TuningLoop loop(make_solver("random", space, SolverOptions{policy.direction, 7}), policy);
  try {
    loop.replay(records);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  Driver driver(loop);
  driver.run(loop.start(driver.now_, space.default_point()));
  return 0;
}
