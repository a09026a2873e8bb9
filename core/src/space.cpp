#include <trimtab/core/space.hpp>

#include <trimtab/core/overloaded.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace trimtab {
namespace {

using detail::overloaded;

double clamp_unit(double u) noexcept {
  if (!(u >= 0.0)) return 0.0; // NaN lands on the lower end rather than poisoning the index
  return std::min(u, 1.0);
}

// Index of the equal slice of [0, 1] that u falls in, out of n.
std::uint64_t slice_index(double u, std::uint64_t n) noexcept {
  const auto index = static_cast<std::uint64_t>(clamp_unit(u) * static_cast<double>(n));
  return std::min(index, n - 1);
}

double slice_centre(std::uint64_t index, std::uint64_t n) noexcept {
  return (static_cast<double>(index) + 0.5) / static_cast<double>(n);
}

// Log int ranges: integer k owns [log k, log(k + 1)) of [log min, log(max + 1)], so each value's
// share shrinks like 1/k, the way a human would space pool sizes 1, 2, 4, … 1000.
std::int64_t decode_log_int(const IntRange& r, double u) noexcept {
  const double lo = std::log(static_cast<double>(r.min));
  const double hi = std::log(static_cast<double>(r.max) + 1.0);
  const double x = std::floor(std::exp(lo + clamp_unit(u) * (hi - lo)));
  return std::clamp(static_cast<std::int64_t>(x), r.min, r.max);
}

double encode_log_int(const IntRange& r, std::int64_t v) noexcept {
  const double lo = std::log(static_cast<double>(r.min));
  const double hi = std::log(static_cast<double>(r.max) + 1.0);
  return (std::log(static_cast<double>(v) + 0.5) - lo) / (hi - lo);
}

} // namespace

SpaceError::SpaceError(std::string param, std::string field, const std::string& message)
    : std::invalid_argument(param.empty() ? message : "param '" + param + "': " + message), param_(std::move(param)),
      field_(std::move(field)) {}

Value implied_default(const Param& param) {
  return std::visit(overloaded{[](const IntRange& r) -> Value {
                                 if (r.log) return decode_log_int(r, 0.5);
                                 const auto n = (static_cast<std::uint64_t>(r.max) - static_cast<std::uint64_t>(r.min)) /
                                                    static_cast<std::uint64_t>(r.step) +
                                                1;
                                 return static_cast<std::int64_t>(static_cast<std::uint64_t>(r.min) +
                                                                  (n - 1) / 2 * static_cast<std::uint64_t>(r.step));
                               },
                               [](const FloatRange& r) -> Value {
                                 return r.log ? std::sqrt(r.min * r.max) : r.min + (r.max - r.min) / 2;
                               },
                               [](const OrdinalChoices& o) -> Value { return o.choices[(o.choices.size() - 1) / 2]; },
                               [](const CategoricalChoices& c) -> Value { return c.choices.front(); }},
                    param.domain);
}

Space::Space(std::vector<Param> params) : params_(std::move(params)) {
  std::set<std::string_view> names;
  offsets_.reserve(params_.size());
  default_point_.values.reserve(params_.size());
  for (const auto& param : params_) {
    if (auto problem = check_param(param)) throw SpaceError(param.name, problem->field, problem->message);
    if (!names.insert(param.name).second) throw SpaceError(param.name, "", "the name is used by two parameters");
    offsets_.push_back(dimensions_);
    dimensions_ += encoded_width(param);
    default_point_.values.push_back(param.default_value ? *param.default_value : implied_default(param));
  }
  if (params_.empty()) throw SpaceError("", "", "the space has no parameters");
}

std::optional<std::size_t> Space::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return i;
  return std::nullopt;
}

std::optional<std::uint64_t> Space::cardinality() const noexcept {
  std::uint64_t total = 1;
  for (const auto& param : params_) {
    const auto count = value_count(param);
    if (!count) return std::nullopt;
    if (__builtin_mul_overflow(total, *count, &total)) return std::nullopt;
  }
  return total;
}

std::optional<std::string> Space::check(const Point& point) const {
  if (point.values.size() != params_.size())
    return "the configuration has " + std::to_string(point.values.size()) + " values for " +
           std::to_string(params_.size()) + " parameters";
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (auto why = check_value(params_[i], point.values[i])) return "param '" + params_[i].name + "': " + *why;
  return std::nullopt;
}

Value Space::decode_value(const Param& param, std::span<const double> unit) {
  return std::visit(
      overloaded{[&](const IntRange& r) -> Value {
                   if (r.log) return decode_log_int(r, unit[0]);
                   const auto n = value_count(param).value();
                   const auto index = slice_index(unit[0], n);
                   return static_cast<std::int64_t>(static_cast<std::uint64_t>(r.min) +
                                                    index * static_cast<std::uint64_t>(r.step));
                 },
                 [&](const FloatRange& r) -> Value {
                   const double u = clamp_unit(unit[0]);
                   const double v = r.log ? std::exp(std::log(r.min) + u * (std::log(r.max) - std::log(r.min)))
                                          : r.min + u * (r.max - r.min);
                   return std::clamp(v, r.min, r.max); // exp/log rounding may step just outside
                 },
                 [&](const OrdinalChoices& o) -> Value { return o.choices[slice_index(unit[0], o.choices.size())]; },
                 [&](const CategoricalChoices& c) -> Value {
                   // The first of equal maxima wins, so ties decode the same way every time.
                   std::size_t best = 0;
                   for (std::size_t i = 1; i < c.choices.size(); ++i)
                     if (clamp_unit(unit[i]) > clamp_unit(unit[best])) best = i;
                   return c.choices[best];
                 }},
      param.domain);
}

void Space::encode_value(const Param& param, const Value& value, std::span<double> out) {
  std::visit(overloaded{[&](const IntRange& r) {
                          const auto v = std::get<std::int64_t>(value);
                          if (r.log) {
                            out[0] = encode_log_int(r, v);
                            return;
                          }
                          const auto index = (static_cast<std::uint64_t>(v) - static_cast<std::uint64_t>(r.min)) /
                                             static_cast<std::uint64_t>(r.step);
                          out[0] = slice_centre(index, value_count(param).value());
                        },
                        [&](const FloatRange& r) {
                          const auto v = std::get<double>(value);
                          out[0] = r.log ? (std::log(v) - std::log(r.min)) / (std::log(r.max) - std::log(r.min))
                                         : (v - r.min) / (r.max - r.min);
                        },
                        [&](const OrdinalChoices& o) {
                          const auto it = std::find(o.choices.begin(), o.choices.end(), std::get<double>(value));
                          out[0] = slice_centre(static_cast<std::uint64_t>(it - o.choices.begin()), o.choices.size());
                        },
                        [&](const CategoricalChoices& c) {
                          const auto& label = std::get<std::string>(value);
                          for (std::size_t i = 0; i < c.choices.size(); ++i) out[i] = c.choices[i] == label ? 1.0 : 0.0;
                        }},
             param.domain);
}

Point Space::decode(std::span<const double> unit) const {
  if (unit.size() != dimensions_)
    throw std::invalid_argument("decode: " + std::to_string(unit.size()) + " coordinates for a space of dimension " +
                                std::to_string(dimensions_));
  Point point;
  point.values.reserve(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i)
    point.values.push_back(decode_value(params_[i], unit.subspan(offsets_[i], encoded_width(params_[i]))));
  return point;
}

void Space::encode(const Point& point, std::span<double> out) const {
  if (auto why = check(point)) throw std::invalid_argument("encode: " + *why);
  if (out.size() != dimensions_)
    throw std::invalid_argument("encode: room for " + std::to_string(out.size()) + " coordinates in a space of dimension " +
                                std::to_string(dimensions_));
  for (std::size_t i = 0; i < params_.size(); ++i)
    encode_value(params_[i], point.values[i], out.subspan(offsets_[i], encoded_width(params_[i])));
}

std::vector<double> Space::encode(const Point& point) const {
  std::vector<double> unit(dimensions_);
  encode(point, unit);
  return unit;
}

} // namespace trimtab
