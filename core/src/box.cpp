#include <trimtab/core/box.hpp>

#include <trimtab/core/overloaded.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace trimtab {
namespace {

using detail::overloaded;

// The largest double below x: decode() maps u = i / n to value i, so a slice's closed upper end
// must stop just short of the next slice.
double just_below(double x) { return std::nextafter(x, -1.0); }

double numeric(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return std::get<double>(value);
}

} // namespace

void UnitBox::place(std::vector<double>& u) const {
  for (std::size_t d = 0; d < u.size(); ++d) u[d] = lower[d] + u[d] * (upper[d] - lower[d]);
}

UnitBox to_unit_box(const Space& space, const Box& box) {
  UnitBox unit{std::vector<double>(space.dimensions(), 0.0), std::vector<double>(space.dimensions(), 1.0)};
  if (box.unlimited()) return unit;
  if (box.limits.size() != space.size())
    throw std::invalid_argument("box: " + std::to_string(box.limits.size()) + " limits for " +
                                std::to_string(space.size()) + " parameters");
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& param = space.params()[i];
    const auto& limit = box.limits[i];
    const auto at = space.offset(i);
    auto empty = [&] {
      return std::invalid_argument("box: param '" + param.name + "' has no value within [" + format_value(limit.lower) +
                                   ", " + format_value(limit.upper) + "]");
    };
    std::visit(
        overloaded{
            [&](const FloatRange& r) {
              const double lo = std::max(limit.lower, r.min), hi = std::min(limit.upper, r.max);
              if (lo > hi) throw empty();
              std::vector<double> u(1);
              Space::encode_value(param, Value{lo}, u);
              unit.lower[at] = u[0];
              Space::encode_value(param, Value{hi}, u);
              unit.upper[at] = u[0];
            },
            [&](const IntRange& r) {
              // The allowed values on the step grid, then the cube slices they own.
              const double lo = std::max(limit.lower, double(r.min)), hi = std::min(limit.upper, double(r.max));
              const auto first = std::ceil((lo - double(r.min)) / double(r.step));
              const auto last = std::floor((hi - double(r.min)) / double(r.step));
              if (first > last) throw empty();
              const auto low_value = r.min + static_cast<std::int64_t>(first) * r.step;
              const auto high_value = r.min + static_cast<std::int64_t>(last) * r.step;
              if (r.log) {
                const double a = std::log(double(r.min)), b = std::log(double(r.max) + 1.0);
                unit.lower[at] = (std::log(double(low_value)) - a) / (b - a);
                unit.upper[at] = just_below((std::log(double(high_value) + 1.0) - a) / (b - a));
              } else {
                const double n = static_cast<double>(*value_count(param));
                unit.lower[at] = first / n;
                unit.upper[at] = just_below((last + 1.0) / n);
              }
            },
            [&](const OrdinalChoices& o) {
              std::size_t first = o.choices.size(), last = 0;
              for (std::size_t k = 0; k < o.choices.size(); ++k) {
                if (o.choices[k] < limit.lower || o.choices[k] > limit.upper) continue;
                first = std::min(first, k);
                last = k;
              }
              if (first == o.choices.size()) throw empty();
              const double n = static_cast<double>(o.choices.size());
              unit.lower[at] = static_cast<double>(first) / n;
              unit.upper[at] = just_below(static_cast<double>(last + 1) / n);
            },
            [&](const CategoricalChoices& c) {
              if (!limit.hold) return;
              const auto it = std::find(c.choices.begin(), c.choices.end(), *limit.hold);
              if (it == c.choices.end())
                throw std::invalid_argument("box: param '" + param.name + "' is held at '" + *limit.hold +
                                            "', which is not one of its choices");
              for (std::size_t k = 0; k < c.choices.size(); ++k) {
                const double v = c.choices.begin() + static_cast<std::ptrdiff_t>(k) == it ? 1.0 : 0.0;
                unit.lower[at + k] = v;
                unit.upper[at + k] = v;
              }
            }},
        param.domain);
  }
  return unit;
}

void clamp_into(const Space& space, const Box& box, Point& point) {
  if (box.unlimited()) return;
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& limit = box.limits.at(i);
    auto& value = point.values.at(i);
    std::visit(overloaded{[&](const FloatRange& r) {
                            value = std::clamp(std::get<double>(value), std::max(limit.lower, r.min), std::min(limit.upper, r.max));
                          },
                          [&](const IntRange& r) {
                            // The allowed values closest to each end, on the step grid.
                            const auto v = std::get<std::int64_t>(value);
                            const double step = double(r.step), base = double(r.min);
                            if (double(v) < limit.lower)
                              value = std::min(r.max, r.min + r.step * static_cast<std::int64_t>(std::ceil((limit.lower - base) / step)));
                            else if (double(v) > limit.upper)
                              value = std::max(r.min, r.min + r.step * static_cast<std::int64_t>(std::floor((limit.upper - base) / step)));
                          },
                          [&](const OrdinalChoices& o) {
                            const double v = std::get<double>(value);
                            double nearest = v, distance = INFINITY;
                            for (double choice : o.choices)
                              if (choice >= limit.lower && choice <= limit.upper && std::abs(choice - v) < distance) {
                                nearest = choice;
                                distance = std::abs(choice - v);
                              }
                            value = nearest;
                          },
                          [&](const CategoricalChoices&) {
                            if (limit.hold) value = *limit.hold;
                          }},
               space.params()[i].domain);
  }
}

bool box_contains(const Space& space, const Box& box, const Point& point) {
  if (box.unlimited()) return true;
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& limit = box.limits.at(i);
    const auto& value = point.values.at(i);
    if (const auto* label = std::get_if<std::string>(&value)) {
      if (limit.hold && *limit.hold != *label) return false;
    } else if (numeric(value) < limit.lower || numeric(value) > limit.upper) {
      return false;
    }
  }
  return true;
}

} // namespace trimtab
