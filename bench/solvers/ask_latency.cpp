// How long Solver::ask() takes once a solver holds n observations, for n = 20, 100, 300 in 2, 6 and
// 12 dimensions (float parameters in [0, 1], observations of a cheap bumpy bowl). One benchmark
// family per solver kind make_solver() knows, plus "bayes" even before it exists: an unknown kind
// shows up as skipped, with make_solver's message, instead of silently missing.
//
// Two ways to ask, because a model-based solver does different work in each:
//
//   ask/KIND/dims:D/n:N          the latency of a `trimtab solve` step: the ask that follows the
//                                tell of the n-th observation. A model-based solver refits its
//                                models there. Each iteration gets a fresh solver brought to that
//                                state (n - 1 observations seeded, then one ask and its tell, so the
//                                refit is warm-started as in a session), and only the final ask is
//                                timed, with manual timing: no PauseTiming/ResumeTiming.
//
//   ask_repeated/KIND/dims:D/n:N one solver told n observations once (its model fitted by an
//                                untimed first ask), then ask() timed over and over, each proposal
//                                withdrawn with cancel() so the state stays fixed: the search for
//                                the next point alone, without any model refit.
//
// Run: trimtab_bench_ask_latency [--benchmark_filter=bayes] (Google Benchmark's flags).

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <trimtab/core/make_solver.hpp>

namespace {

using trimtab::Observation;
using trimtab::Point;
using trimtab::Solver;
using trimtab::Space;
using trimtab::Trial;

constexpr std::uint64_t solver_seed = 42;
// Both families, for solvers whose ask takes microseconds (see register_kind).
constexpr std::int64_t cheap_kind_iterations = 1000;

Space unit_cube(std::size_t dims) {
  std::vector<trimtab::Param> params;
  for (std::size_t i = 0; i < dims; ++i) params.push_back(trimtab::Param{"x" + std::to_string(i), trimtab::FloatRange{0.0, 1.0}, {}, {}});
  return Space(std::move(params));
}

// A bowl off the cube's centre with a ripple, so models have something non-trivial to fit.
double bumpy_bowl(const Point& point) {
  double sum = 0.0;
  for (std::size_t i = 0; i < point.values.size(); ++i) {
    const double x = std::get<double>(point.values[i]);
    const double centre = 0.2 + 0.6 * static_cast<double>(i % 5) / 4.0;
    sum += (x - centre) * (x - centre) + 0.05 * std::sin(12.0 * x);
  }
  return sum;
}

// n observations at uniformly random points; the same for every solver kind.
std::vector<Trial> random_history(const Space& space, std::size_t n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Trial> history;
  for (std::size_t i = 0; i < n; ++i) {
    Point point;
    for (std::size_t d = 0; d < space.size(); ++d) point.values.emplace_back(unit(rng));
    history.push_back(Trial{point, Observation{bumpy_bowl(point), {}, false}});
  }
  return history;
}

// A solver of `kind` holding `history`, or nothing after marking the benchmark skipped when this
// build does not know the kind.
std::unique_ptr<Solver> make(benchmark::State& state, std::string_view kind, const Space& space,
                             const std::vector<Trial>& history) {
  std::unique_ptr<Solver> solver;
  try {
    solver = trimtab::make_solver(kind, space, trimtab::SolverOptions{trimtab::Direction::minimize, solver_seed});
  } catch (const std::invalid_argument& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
  solver->seed(history);
  return solver;
}

void ask_after_tell(benchmark::State& state, std::string kind) {
  const auto dims = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const Space space = unit_cube(dims);
  const auto history = random_history(space, n - 1);
  if (!make(state, kind, space, {})) return;
  for (auto _ : state) {
    auto solver = make(state, kind, space, history);
    // The n-th observation is the solver's own proposal, told: the state a session is in.
    const auto proposal = solver->ask();
    if (!proposal) {
      state.SkipWithError("the solver proposed nothing");
      break;
    }
    solver->tell(*proposal, Observation{bumpy_bowl(*proposal), {}, false});
    const auto start = std::chrono::steady_clock::now();
    auto point = solver->ask();
    const auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(point);
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
  }
}

void ask_repeated(benchmark::State& state, std::string kind) {
  const auto dims = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const Space space = unit_cube(dims);
  auto solver = make(state, kind, space, random_history(space, n));
  if (!solver) return;
  if (auto first = solver->ask()) solver->cancel(*first); // fits the model, untimed
  for (auto _ : state) {
    auto point = solver->ask();
    benchmark::DoNotOptimize(point);
    if (point) solver->cancel(*point);
  }
}

// Seconds one ask takes on a small problem (2 dimensions, 20 observations), or nothing when this
// build does not know the kind.
std::optional<double> small_ask_seconds(const std::string& kind) {
  const Space space = unit_cube(2);
  std::unique_ptr<Solver> solver;
  try {
    solver = trimtab::make_solver(kind, space, trimtab::SolverOptions{trimtab::Direction::minimize, solver_seed});
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  solver->seed(random_history(space, 20));
  const auto start = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(solver->ask());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void register_kind(const std::string& kind) {
  auto* ask = benchmark::RegisterBenchmark(("ask/" + kind).c_str(), ask_after_tell, kind)
                  ->ArgsProduct({{2, 6, 12}, {20, 100, 300}})
                  ->ArgNames({"dims", "n"})
                  ->UseManualTime()
                  ->Unit(benchmark::kMicrosecond);
  auto* repeated = benchmark::RegisterBenchmark(("ask_repeated/" + kind).c_str(), ask_repeated, kind)
                       ->ArgsProduct({{2, 6, 12}, {20, 100, 300}})
                       ->ArgNames({"dims", "n"})
                       ->Unit(benchmark::kMicrosecond);
  // ask/ builds a solver for every iteration, untimed. For a solver whose ask takes microseconds
  // that setup is ~100x the ask, and Google Benchmark would run ~10^6 iterations to fill its 0.5 s
  // of measured time: minutes of wall time. Such cheap kinds run a fixed 1000 asks instead; the
  // others (a model fit per ask) keep Google Benchmark's automatic iteration count.
  const auto seconds = small_ask_seconds(kind);
  const bool cheap = seconds && *seconds < 100e-6;
  if (cheap) ask->Iterations(cheap_kind_iterations);
  if (cheap) repeated->Iterations(cheap_kind_iterations);
}

} // namespace

int main(int argc, char** argv) {
  for (auto kind : trimtab::solver_kinds()) register_kind(std::string(kind));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
