// Proves the installed package works: headers found, every library linked, a solver runs over a
// space loaded from YAML.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include <trimtab/config/space_yaml.hpp>
#include <trimtab/core/grid_solver.hpp>
#include <trimtab/core/json_text.hpp>
#include <trimtab/core/point_json.hpp>

int main() {
  char path[] = "/tmp/trimtab-consumer-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  std::ofstream(path) << "params:\n  pool_size: {type: int, min: 1, max: 4}\n";
  const auto space = trimtab::load_space_file(path);
  std::remove(path);

  trimtab::GridSolver solver(space, {trimtab::Direction::maximize, 0});
  int asked = 0;
  while (auto point = solver.ask()) {
    const auto pool = std::get<std::int64_t>(point->values[0]);
    solver.tell(*point, trimtab::Observation{static_cast<double>(-(pool - 3) * (pool - 3)), {}, false});
    ++asked;
  }
  const auto* best = solver.best();
  std::cout << "consumer: " << asked << " configurations, best "
            << trimtab::to_json_text(trimtab::point_to_json(space, best->point)) << '\n';
  return asked == 4 && std::get<std::int64_t>(best->point.values[0]) == 3 ? 0 : 1;
}
