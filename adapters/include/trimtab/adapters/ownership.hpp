#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <trimtab/adapters/adapter.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

/// Which adapter sets which parameter. Every parameter of the space belongs to exactly one adapter,
/// so an apply can be split without gaps or two adapters fighting over a knob.
class Ownership {
public:
  /// `owned[i]` lists the parameters adapter i owns. Throws std::invalid_argument naming the adapter
  /// and parameter when one is unknown, owned twice, or owned by nobody.
  Ownership(const Space& space, std::span<const std::string> adapter_names,
            std::span<const std::vector<std::string>> owned);

  [[nodiscard]] std::size_t adapter_count() const noexcept { return indices_.size(); }

  /// The settings adapter `adapter` must apply for configuration `point` of the space.
  [[nodiscard]] Settings settings_for(std::size_t adapter, const Space& space, const Point& point) const;

private:
  std::vector<std::vector<std::size_t>> indices_; // per adapter, its parameters' indices in the space
};

} // namespace trimtab
