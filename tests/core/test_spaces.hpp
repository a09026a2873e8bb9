#pragma once

// Spaces shared by the core test suites.

#include <trimtab/core/space.hpp>

namespace trimtab::test {

/// The example space of README and examples/spaces/service.yaml: one parameter of each kind.
inline Space service_space() {
  return Space({
      Param{"pool_size", IntRange{5, 100}, Value{std::int64_t{20}}, {}},
      Param{"timeout_ms", FloatRange{100.0, 5000.0, true}, {}, {}},
      Param{"batch", OrdinalChoices{{4, 8, 16}}, {}, {}},
      Param{"policy", CategoricalChoices{{"lru", "lfu", "random"}}, {}, {}},
  });
}

/// A small all-discrete space: 3 x 4 x 2 = 24 configurations.
inline Space small_discrete_space() {
  return Space({
      Param{"a", IntRange{1, 3}, {}, {}},
      Param{"b", OrdinalChoices{{1, 2, 4, 8}}, {}, {}},
      Param{"c", CategoricalChoices{{"x", "y"}}, {}, {}},
  });
}

} // namespace trimtab::test
