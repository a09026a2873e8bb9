#pragma once

// Internal: walking the cartesian product of per-parameter value lists without materialising it.

#include <cstdint>
#include <optional>
#include <vector>

#include <trimtab/core/point.hpp>

namespace trimtab::detail {

/// The number of points in the product of `levels`, or nothing when it exceeds 2^64 - 1.
[[nodiscard]] std::optional<std::uint64_t> product_size(const std::vector<std::vector<Value>>& levels) noexcept;

/// The point at `index` of the product, the first parameter varying fastest.
[[nodiscard]] Point product_point(const std::vector<std::vector<Value>>& levels, std::uint64_t index);

} // namespace trimtab::detail
