#include <trimtab/adapters/ownership.hpp>

#include <optional>
#include <stdexcept>

namespace trimtab {

Ownership::Ownership(const Space& space, std::span<const std::string> adapter_names,
                     std::span<const std::vector<std::string>> owned) {
  if (adapter_names.size() != owned.size())
    throw std::invalid_argument("ownership: " + std::to_string(adapter_names.size()) + " adapter names for " +
                                std::to_string(owned.size()) + " parameter lists");
  std::vector<std::optional<std::size_t>> owner(space.size());
  for (std::size_t a = 0; a < owned.size(); ++a) {
    auto& indices = indices_.emplace_back();
    for (const auto& name : owned[a]) {
      const auto index = space.find(name);
      if (!index) throw std::invalid_argument("adapter '" + adapter_names[a] + "': unknown parameter '" + name + "'");
      if (owner[*index])
        throw std::invalid_argument("adapter '" + adapter_names[a] + "': parameter '" + name +
                                    "' is already set by adapter '" + adapter_names[*owner[*index]] + "'");
      owner[*index] = a;
      indices.push_back(*index);
    }
  }
  for (std::size_t i = 0; i < owner.size(); ++i)
    if (!owner[i]) throw std::invalid_argument("parameter '" + space.params()[i].name + "' is set by no adapter");
}

Settings Ownership::settings_for(std::size_t adapter, const Space& space, const Point& point) const {
  Settings settings;
  for (auto index : indices_.at(adapter)) settings.emplace_back(space.params()[index].name, point.values.at(index));
  return settings;
}

} // namespace trimtab
