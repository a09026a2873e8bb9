#pragma once

// The ownership rule: every parameter of the space is set by exactly one adapter, so an apply
// splits between the adapters without gaps and no two adapters fight over a knob. config/ checks it
// as it reads tuning.yaml (each mistake located in the file), the agent splits every apply by it.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <trimtab/core/point.hpp>
#include <trimtab/core/settings.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

/// One way a list of adapters breaks the rule.
struct OwnershipBreak {
  enum class Kind {
    unknown,     ///< an adapter lists a name that is no parameter
    owned_twice, ///< an adapter lists a parameter an adapter (it, or an earlier one) already lists
    unowned,     ///< no adapter lists the parameter
  };
  Kind kind = Kind::unknown;
  std::string param;
  /// unknown, owned_twice: the adapter that lists it, and where in its list.
  std::size_t adapter = 0;
  std::size_t position = 0;
  /// owned_twice: the adapter that listed it first.
  std::size_t first_owner = 0;
};

/// Checks the rule adapter by adapter, so a reader that meets the adapters one at a time can report
/// each one's breaks where it stands.
class OwnershipCheck {
public:
  /// `params`: every parameter's name, in the space's order.
  explicit OwnershipCheck(std::vector<std::string> params);

  /// Takes the next adapter's list (the adapter's index is the number added before it) and returns
  /// its unknown and twice-owned names, in list order. A name that breaks the rule is not owned by
  /// the adapter listing it.
  std::vector<OwnershipBreak> add(std::span<const std::string> listed);

  /// The parameters no adapter added so far lists, in the space's order.
  [[nodiscard]] std::vector<OwnershipBreak> unowned() const;

  /// Per parameter, in the space's order, the adapter that owns it.
  [[nodiscard]] const std::vector<std::optional<std::size_t>>& owners() const noexcept { return owner_; }

private:
  std::vector<std::string> params_;
  std::vector<std::optional<std::size_t>> owner_;
  std::size_t adapters_ = 0;
};

/// Which adapter sets which parameter, for a list of adapters that keeps the rule.
class ParamOwners {
public:
  /// `owned[i]` lists the parameters adapter i owns. Throws std::invalid_argument naming the adapter
  /// and parameter when one is unknown, owned twice, or owned by nobody.
  ParamOwners(const Space& space, std::span<const std::string> adapter_names,
              std::span<const std::vector<std::string>> owned);

  [[nodiscard]] std::size_t adapter_count() const noexcept { return indices_.size(); }

  /// The settings adapter `adapter` must apply for configuration `point` of the space, in the order
  /// its list gives them.
  [[nodiscard]] Settings settings_for(std::size_t adapter, const Space& space, const Point& point) const;

private:
  std::vector<std::vector<std::size_t>> indices_; // per adapter, its parameters' indices in the space
};

} // namespace trimtab
