// What a long study costs the Bayesian solver: resident memory, heap in use and the time of each
// ask-and-tell as the history grows to thousands of evaluations (a study that tunes for weeks), and
// whether its recommendation keeps its quality once the models no longer hold every configuration
// (see core/src/bayes/training_rows.hpp).
//
// The problem has the soak's shape (tests/reliability/soak.py): a pool (int 1..48), a batch
// (int 1..64) and a timeout (float 0.2..20, log), a noisy objective (5 % per measurement, its
// standard error not told, as with a scraped mean) and one constraint. The integer grid is large
// enough (3072 pool x batch pairs) that almost every proposal is new.
//
// Run: trimtab_bench_long_study [--evaluations 10000] [--seeds 3] [--first-seed 0] [--out DIR]
// Prints a table (with the load average: quote it only from an otherwise idle machine) and writes
// DIR/long_study.csv. Run one at a time: the memory figures are the process's own.

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <trimtab/core/make_solver.hpp>

namespace {

using namespace trimtab;

Space soak_space() {
  return Space({Param{"pool_size", IntRange{1, 48}, {}, {}}, Param{"batch_size", IntRange{1, 64}, {}, {}},
                Param{"batch_timeout_ms", FloatRange{0.2, 20.0, true}, {}, {}}});
}

struct Truth {
  double latency;     // the objective, minimised
  double p99_slack;   // p99 - limit: the constraint holds at 0 or below
};

// A latency that falls with the pool until contention, has a best batch size, and grows with the
// timeout; p99 breaks its limit for small pools at long timeouts.
Truth truth(const Point& point) {
  const double pool = static_cast<double>(std::get<std::int64_t>(point.values[0]));
  const double batch = static_cast<double>(std::get<std::int64_t>(point.values[1]));
  const double timeout = std::get<double>(point.values[2]);
  const double latency = 2.0 + 24.0 / pool + 0.05 * pool + 0.3 * std::pow(std::log2(batch) - 3.0, 2) + 0.4 * timeout;
  const double p99 = 3.0 * latency + 40.0 / pool * std::log1p(timeout);
  return {latency, p99 - 60.0};
}

// The best feasible latency: the timeout's shortest setting is best for both latency and p99.
double best_true_latency() {
  double best = 1e300;
  for (int pool = 1; pool <= 48; ++pool)
    for (int batch = 1; batch <= 64; ++batch) {
      const Point p{{std::int64_t{pool}, std::int64_t{batch}, 0.2}};
      const auto t = truth(p);
      if (t.p99_slack <= 0.0) best = std::min(best, t.latency);
    }
  return best;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double heap_in_use_bytes() {
  const auto info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one, five, fifteen;
  f >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

struct Row {
  std::uint64_t seed;
  std::size_t evaluations;
  double rss_mib, heap_mib, median_ms, max_ms, regret;
};

} // namespace

int main(int argc, char** argv) {
  std::size_t evaluations = 10000, seeds = 3, first_seed = 0;
  std::string out = "bench/solvers/results";
  const auto usage = [] {
    std::cerr << "usage: trimtab_bench_long_study [--evaluations N] [--seeds S] [--first-seed K] [--out DIR]\n";
    return 2;
  };
  if (argc % 2 == 0) return usage();
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string flag = argv[i];
      if (flag == "--evaluations") evaluations = std::stoul(argv[i + 1]);
      else if (flag == "--seeds") seeds = std::stoul(argv[i + 1]);
      else if (flag == "--first-seed") first_seed = std::stoul(argv[i + 1]);
      else if (flag == "--out") out = argv[i + 1];
      else return usage();
    }
  } catch (const std::logic_error&) { // std::stoul: not a number, or out of range
    return usage();
  }
  if (evaluations == 0 || seeds == 0) return usage();
  std::ofstream csv(out + "/long_study.csv");
  if (!csv) {
    std::cerr << "trimtab_bench_long_study: cannot write " << out << "/long_study.csv\n";
    return 1;
  }

  const Space space = soak_space();
  const double best = best_true_latency();
  std::vector<std::size_t> checkpoints;
  for (std::size_t c : {50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000})
    if (c < evaluations) checkpoints.push_back(c);
  checkpoints.push_back(evaluations);

  std::vector<Row> rows;
  for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    auto solver = make_solver("bayes", space, SolverOptions{Direction::minimize, seed});
    std::mt19937_64 noise(1000 + seed);
    std::normal_distribution<double> gauss(0.0, 1.0);
    std::vector<double> step_ms;
    std::size_t next = 0;
    for (std::size_t n = 1; n <= evaluations; ++n) {
      const auto start = std::chrono::steady_clock::now();
      const auto point = solver->ask();
      if (!point) {
        std::cerr << "seed " << seed << ": the solver proposed nothing after " << n - 1 << " evaluations\n";
        return 1;
      }
      const auto t = truth(*point);
      solver->tell(*point, Observation{t.latency * (1.0 + 0.05 * gauss(noise)), {t.p99_slack}, false});
      step_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (n != checkpoints[next]) continue;
      const auto* pick = solver->recommendation();
      const double regret = pick ? truth(pick->point).latency - best : NAN;
      rows.push_back(Row{seed, n, mib(resident_bytes()), mib(heap_in_use_bytes()), median(step_ms),
                         *std::max_element(step_ms.begin(), step_ms.end()), regret});
      step_ms.clear();
      ++next;
    }
  }

  csv << "seed,evaluations,rss_mib,heap_mib,median_step_ms,max_step_ms,regret\n";
  for (const auto& r : rows)
    csv << r.seed << ',' << r.evaluations << ',' << r.rss_mib << ',' << r.heap_mib << ',' << r.median_ms << ','
        << r.max_ms << ',' << r.regret << '\n';

  std::printf("long study: bayes on the soak's space, %zu seeds, load average %s\n", seeds, load_average().c_str());
  std::printf("step = one ask and its tell; medians over seeds, [min, max] across seeds\n");
  std::printf("%11s  %-20s  %-20s  %-22s  %-22s  %-22s\n", "evaluations", "RSS MiB", "heap MiB", "median step ms",
              "slowest step ms", "regret of pick");
  const auto cell = [&](std::size_t n, double Row::*field) {
    std::vector<double> v;
    for (const auto& r : rows)
      if (r.evaluations == n) v.push_back(r.*field);
    char text[64];
    std::snprintf(text, sizeof text, "%.3g [%.3g, %.3g]", median(v), *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()));
    return std::string(text);
  };
  for (std::size_t n : checkpoints)
    std::printf("%11zu  %-20s  %-20s  %-22s  %-22s  %-22s\n", n, cell(n, &Row::rss_mib).c_str(),
                cell(n, &Row::heap_mib).c_str(), cell(n, &Row::median_ms).c_str(), cell(n, &Row::max_ms).c_str(),
                cell(n, &Row::regret).c_str());
  return 0;
}
