#include <trimtab/core/running_config.hpp>

#include <stdexcept>
#include <utility>

namespace trimtab {
namespace {

const std::string unknown = "cannot read the running configuration: ";
const std::string misfit = "the running configuration the adapters report does not fit the params: ";

// Adds the defaults of the params of an adapter that cannot read back; why not, when one has none.
std::optional<std::string> add_defaults(const Space& space, const AdapterReading& reading, Settings& running) {
  for (const auto& name : reading.params) {
    const auto index = space.find(name);
    if (!index) return misfit + "unknown parameter '" + name + "'";
    const auto& param = space.params()[*index];
    if (!param.default_value)
      return unknown + reading.message + "; give param '" + name + "' a default, the value the service starts with";
    running.emplace_back(name, *param.default_value);
  }
  return std::nullopt;
}

} // namespace

RunningConfig running_config_from(const Space& space, std::span<const AdapterReading> readings) {
  RunningConfig out;
  Settings running;
  for (const auto& reading : readings) {
    switch (reading.kind) {
    case AdapterReading::Kind::settings: running.insert(running.end(), reading.settings.begin(), reading.settings.end()); break;
    case AdapterReading::Kind::failed: out.error = unknown + reading.message; return out;
    case AdapterReading::Kind::cannot_read:
      if (auto error = add_defaults(space, reading, running)) {
        out.error = std::move(*error);
        return out;
      }
      out.notes.push_back(reading.message + "; taking the params' defaults as the running values");
      break;
    }
  }
  try {
    out.point = point_of(space, running);
  } catch (const std::invalid_argument& e) {
    out.error = misfit + e.what();
  }
  return out;
}

} // namespace trimtab
