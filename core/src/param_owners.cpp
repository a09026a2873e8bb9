#include <trimtab/core/param_owners.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace trimtab {

OwnershipCheck::OwnershipCheck(std::vector<std::string> params)
    : params_(std::move(params)), owner_(params_.size()) {}

std::vector<OwnershipBreak> OwnershipCheck::add(std::span<const std::string> listed) {
  const auto adapter = adapters_++;
  std::vector<OwnershipBreak> breaks;
  for (std::size_t position = 0; position < listed.size(); ++position) {
    const auto& name = listed[position];
    const auto it = std::find(params_.begin(), params_.end(), name);
    if (it == params_.end()) {
      breaks.push_back({OwnershipBreak::Kind::unknown, name, adapter, position, 0});
      continue;
    }
    auto& owner = owner_[static_cast<std::size_t>(std::distance(params_.begin(), it))];
    if (owner) {
      breaks.push_back({OwnershipBreak::Kind::owned_twice, name, adapter, position, *owner});
      continue;
    }
    owner = adapter;
  }
  return breaks;
}

std::vector<OwnershipBreak> OwnershipCheck::unowned() const {
  std::vector<OwnershipBreak> breaks;
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!owner_[i]) breaks.push_back({OwnershipBreak::Kind::unowned, params_[i], 0, 0, 0});
  return breaks;
}

namespace {

std::vector<std::string> names_of(const Space& space) {
  std::vector<std::string> names;
  for (const auto& param : space.params()) names.push_back(param.name);
  return names;
}

std::string describe(const OwnershipBreak& fault, std::span<const std::string> adapter_names) {
  switch (fault.kind) {
  case OwnershipBreak::Kind::unknown:
    return "adapter '" + adapter_names[fault.adapter] + "': unknown parameter '" + fault.param + "'";
  case OwnershipBreak::Kind::owned_twice:
    return "adapter '" + adapter_names[fault.adapter] + "': parameter '" + fault.param + "' is already set by adapter '" +
           adapter_names[fault.first_owner] + "'";
  case OwnershipBreak::Kind::unowned: break;
  }
  return "parameter '" + fault.param + "' is set by no adapter";
}

} // namespace

ParamOwners::ParamOwners(const Space& space, std::span<const std::string> adapter_names,
                         std::span<const std::vector<std::string>> owned) {
  if (adapter_names.size() != owned.size())
    throw std::invalid_argument("ownership: " + std::to_string(adapter_names.size()) + " adapter names for " +
                                std::to_string(owned.size()) + " parameter lists");
  OwnershipCheck check(names_of(space));
  for (const auto& listed : owned)
    if (const auto breaks = check.add(listed); !breaks.empty()) throw std::invalid_argument(describe(breaks.front(), adapter_names));
  if (const auto breaks = check.unowned(); !breaks.empty()) throw std::invalid_argument(describe(breaks.front(), adapter_names));
  for (const auto& listed : owned) {
    auto& indices = indices_.emplace_back();
    for (const auto& name : listed) indices.push_back(*space.find(name));
  }
}

Settings ParamOwners::settings_for(std::size_t adapter, const Space& space, const Point& point) const {
  Settings settings;
  for (auto index : indices_.at(adapter)) settings.emplace_back(space.params()[index].name, point.values.at(index));
  return settings;
}

} // namespace trimtab
