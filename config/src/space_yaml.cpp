#include <trimtab/config/space_yaml.hpp>

#include <array>
#include <cmath>
#include <map>
#include <optional>

#include <yaml-cpp/yaml.h>

#include <trimtab/config/config_error.hpp>

#include <trimtab/core/did_you_mean.hpp>

#include "yaml_scalars.hpp"

namespace trimtab {
namespace {

constexpr std::array<std::string_view, 4> kind_names{"int", "float", "ordinal", "categorical"};
constexpr std::array<std::string_view, 8> param_keys{"type", "min", "max", "step", "log", "choices", "default", "grid_points"};

// Which keys each kind takes, besides type and default.
bool key_applies(std::string_view kind, std::string_view key) {
  if (key == "type" || key == "default") return true;
  if (kind == "int") return key == "min" || key == "max" || key == "step" || key == "log" || key == "grid_points";
  if (kind == "float") return key == "min" || key == "max" || key == "log" || key == "grid_points";
  return key == "choices";
}

class ParamReader : public detail::YamlScalars<ParamReader> {
public:
  explicit ParamReader(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null()) throw ConfigError(file_, 0, 0, message);
    throw ConfigError(file_, static_cast<std::size_t>(mark.line) + 1, static_cast<std::size_t>(mark.column) + 1,
                      message);
  }

  const YAML::Node& sequence(const YAML::Node& node, std::string_view what) const {
    if (!node.IsSequence()) fail(node.Mark(), std::string(what) + " must be a list such as [4, 8, 16]");
    return node;
  }

  // Reads one `name: {type: …, …}` entry; records where each field was written.
  Param read(const std::string& name, const YAML::Node& body, std::map<std::string, YAML::Mark>& marks) const {
    if (!body.IsMap()) fail(body.Mark(), "param '" + name + "' must be a map such as {type: int, min: 1, max: 10}");
    std::map<std::string, YAML::Node> fields;
    std::map<std::string, YAML::Mark> key_marks;
    for (const auto& entry : body) {
      const auto key = scalar(entry.first, "a key");
      if (std::find(param_keys.begin(), param_keys.end(), key) == param_keys.end())
        fail(entry.first.Mark(), "param '" + name + "': unknown key '" + key + "'" + did_you_mean(key, param_keys));
      if (fields.contains(key)) fail(entry.first.Mark(), "param '" + name + "': '" + key + "' is written twice");
      fields.emplace(key, entry.second);
      key_marks[key] = entry.first.Mark();
      marks[key] = entry.second.Mark();
    }
    const auto type_it = fields.find("type");
    if (type_it == fields.end())
      fail(body.Mark(), "param '" + name + "' has no type (int, float, ordinal or categorical)");
    const auto kind = scalar(type_it->second, "type");
    if (std::find(kind_names.begin(), kind_names.end(), kind) == kind_names.end())
      fail(type_it->second.Mark(), "param '" + name + "': unknown type '" + kind + "'" + did_you_mean(kind, kind_names) +
                                       "; the types are int, float, ordinal and categorical");
    for (const auto& [key, node] : fields)
      if (!key_applies(kind, key)) fail(key_marks[key], "param '" + name + "': '" + key + "' does not apply to " + kind + " params");

    auto require = [&](const char* key) -> const YAML::Node& {
      const auto it = fields.find(key);
      if (it == fields.end()) fail(body.Mark(), "param '" + name + "' (" + kind + ") needs '" + key + "'");
      return it->second;
    };
    auto optional = [&](const char* key) -> std::optional<YAML::Node> {
      const auto it = fields.find(key);
      if (it == fields.end()) return std::nullopt;
      return it->second;
    };

    Param param;
    param.name = name;
    if (kind == "int") {
      IntRange range;
      range.min = whole_number(require("min"), "min");
      range.max = whole_number(require("max"), "max");
      if (auto step = optional("step")) range.step = whole_number(*step, "step");
      if (auto log = optional("log")) range.log = boolean(*log, "log");
      param.domain = range;
      if (auto d = optional("default")) param.default_value = whole_number(*d, "default");
    } else if (kind == "float") {
      FloatRange range;
      range.min = number(require("min"), "min");
      range.max = number(require("max"), "max");
      if (auto log = optional("log")) range.log = boolean(*log, "log");
      param.domain = range;
      if (auto d = optional("default")) param.default_value = number(*d, "default");
    } else if (kind == "ordinal") {
      OrdinalChoices choices;
      for (const auto& choice : sequence(require("choices"), "choices")) choices.choices.push_back(number(choice, "a choice"));
      param.domain = choices;
      if (auto d = optional("default")) param.default_value = number(*d, "default");
    } else {
      CategoricalChoices choices;
      for (const auto& choice : sequence(require("choices"), "choices")) choices.choices.push_back(scalar(choice, "a choice"));
      param.domain = choices;
      if (auto d = optional("default")) param.default_value = scalar(*d, "default");
    }
    if (auto points = optional("grid_points")) {
      const auto count = whole_number(*points, "grid_points");
      if (count < 1) fail(points->Mark(), "param '" + name + "': grid_points must be at least 1");
      param.grid_points = static_cast<std::size_t>(count);
    }
    return param;
  }

private:
  const std::string& file_;
};

} // namespace

Space parse_space(const YAML::Node& params_node, const std::string& file) {
  const ParamReader reader(file);
  if (!params_node.IsMap() || params_node.size() == 0)
    reader.fail(params_node.Mark(), "'params' must be a map of parameter names to their definitions");
  std::vector<Param> params;
  std::map<std::string, YAML::Mark> name_marks;
  std::map<std::string, std::map<std::string, YAML::Mark>> field_marks;
  for (const auto& entry : params_node) {
    const auto name = reader.scalar(entry.first, "a parameter name");
    if (auto first = name_marks.find(name); first != name_marks.end())
      reader.fail(entry.first.Mark(), "param '" + name + "' is defined twice (first on line " +
                                          std::to_string(first->second.line + 1) + ")");
    name_marks.emplace(name, entry.first.Mark());
    params.push_back(reader.read(name, entry.second, field_marks[name]));
  }
  try {
    return Space(std::move(params));
  } catch (const SpaceError& e) {
    // Point at the field at fault when there is one, else at the parameter's name.
    const auto& marks = field_marks[e.param()];
    const auto field = marks.find(e.field());
    reader.fail(field != marks.end() ? field->second : name_marks[e.param()], e.what());
  }
}

Space load_space_file(const std::filesystem::path& path) {
  const auto file = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw ConfigError(file, 0, 0, "cannot read the file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file, static_cast<std::size_t>(e.mark.line) + 1, static_cast<std::size_t>(e.mark.column) + 1, e.msg);
  }
  if (!root.IsMap()) throw ConfigError(file, 0, 0, "expected a map with a 'params' key at the top");
  const auto params = root["params"];
  if (!params) {
    // A misspelt section name is the likeliest cause: point at it.
    constexpr std::array<std::string_view, 1> wanted{"params"};
    for (const auto& entry : root) {
      if (!entry.first.IsScalar() || did_you_mean(entry.first.Scalar(), wanted).empty()) continue;
      ParamReader(file).fail(entry.first.Mark(), "unknown section '" + entry.first.Scalar() + "'" +
                                                     did_you_mean(entry.first.Scalar(), wanted));
    }
    throw ConfigError(file, 0, 0, "no 'params' map: the parameters to tune go under 'params:'");
  }
  return parse_space(params, file);
}

} // namespace trimtab
