#include <trimtab/core/guardrails.hpp>

#include <trimtab/core/number_text.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <trimtab/core/overloaded.hpp>

namespace trimtab {
namespace {

using namespace std::chrono_literals;

std::optional<double> numeric(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::nullopt;
}

std::string format(double value) { return number_text(value, 6); }

} // namespace

const char* purpose_name(Purpose purpose) noexcept {
  switch (purpose) {
  case Purpose::baseline: return "baseline";
  case Purpose::candidate: return "candidate";
  case Purpose::remeasure: return "remeasure";
  case Purpose::rollback: return "rollback";
  case Purpose::restore: return "restore";
  case Purpose::final_config: return "final";
  case Purpose::switchback: return "switchback";
  }
  return "unknown";
}

std::optional<Purpose> purpose_from_name(std::string_view name) noexcept {
  for (auto purpose : {Purpose::baseline, Purpose::candidate, Purpose::remeasure, Purpose::rollback, Purpose::restore,
                       Purpose::final_config, Purpose::switchback})
    if (name == purpose_name(purpose)) return purpose;
  return std::nullopt;
}

Guardrails::Guardrails(const Space& space, GuardrailPolicy policy)
    : space_(&space), policy_(std::move(policy)), directions_(space.size()) {
  if (policy_.max_delta.empty()) policy_.max_delta.resize(space.size());
  if (policy_.max_delta.size() != space.size())
    throw std::invalid_argument("guardrails: max_delta needs one entry per parameter");
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& limit = policy_.max_delta[i];
    if (!limit) continue;
    const auto& param = space.params()[i];
    if (std::holds_alternative<CategoricalChoices>(param.domain))
      throw std::invalid_argument("guardrails: max_delta of '" + param.name + "': a categorical has no distance to limit");
    if (!(limit->value >= 0.0) || !std::isfinite(limit->value))
      throw std::invalid_argument("guardrails: max_delta of '" + param.name + "' must be a finite number >= 0");
  }
  if (!(policy_.max_updates_per_second > 0.0) || !std::isfinite(policy_.max_updates_per_second))
    throw std::invalid_argument("guardrails: max_updates_per_second must be > 0");
  if (policy_.min_dwell < 0ms) throw std::invalid_argument("guardrails: min_dwell must be >= 0");
  if (policy_.flip_memory == 0) throw std::invalid_argument("guardrails: flip_memory must be >= 1");
}

std::optional<std::pair<double, double>> Guardrails::delta_range(std::size_t index, const Point& around) const {
  const auto& limit = policy_.max_delta.at(index);
  const auto centre = numeric(around.values.at(index));
  if (!limit || !centre) return std::nullopt;
  double reach = limit->around(*centre);
  // A limit smaller than the parameter's own granularity (10 % of a pool of 3) still allows its
  // smallest move: otherwise the parameter could never change, and a rollback never arrive.
  // A percentage of a float at or near 0 is no move at all (from 0, or to it, nothing is within 10 %
  // of the larger end), so it is taken of at least 1 % of the range's width.
  std::visit(detail::overloaded{[&](const IntRange& r) { reach = std::max(reach, static_cast<double>(r.step)); },
                                [&](const FloatRange& f) {
                                  if (limit->percent) reach = std::max(reach, limit->around(0.01 * (f.max - f.min)));
                                },
                                [&](const OrdinalChoices& o) {
                                  for (std::size_t k = 1; k < o.choices.size(); ++k)
                                    if (o.choices[k - 1] == *centre || o.choices[k] == *centre)
                                      reach = std::max(reach, o.choices[k] - o.choices[k - 1]);
                                },
                                [](const auto&) {}},
             space_->params()[index].domain);
  return std::pair{*centre - reach, *centre + reach};
}

std::size_t Guardrails::flips(std::size_t index) const {
  std::size_t count = 0;
  int previous = 0;
  for (int direction : directions_.at(index)) {
    if (direction == 0) continue;
    if (previous != 0 && direction != previous) ++count;
    previous = direction;
  }
  return count;
}

Box Guardrails::candidate_box(const Point& applied, const Point& incumbent) const {
  Box box;
  box.limits.resize(space_->size());
  std::size_t held = 0;
  for (std::size_t i = 0; i < space_->size(); ++i) {
    auto& limit = box.limits[i];
    for (const auto* around : {&applied, &incumbent})
      if (auto range = delta_range(i, *around)) {
        limit.lower = std::max(limit.lower, range->first);
        limit.upper = std::min(limit.upper, range->second);
      }
    if (flips(i) >= policy_.max_direction_flips && held < space_->size() - 1) {
      ++held;
      if (auto value = numeric(applied.values[i])) {
        limit.lower = limit.upper = *value;
      } else {
        limit.hold = std::get<std::string>(applied.values[i]);
      }
    }
    // Rounding of a percentage can leave the two ranges a hair apart; the applied value is always
    // allowed (it is one step from the incumbent by construction).
    if (limit.lower > limit.upper) {
      if (auto value = numeric(applied.values[i])) limit.lower = limit.upper = *value;
    }
  }
  return box;
}

bool Guardrails::within_delta(std::size_t index, const Point& from, const Point& to) const {
  const auto a = numeric(from.values.at(index));
  const auto b = numeric(to.values.at(index));
  if (!a || !b) return true;
  const auto around_from = delta_range(index, from);
  const auto around_to = delta_range(index, to);
  if (!around_from || !around_to) return true;
  // A relative tolerance: percentages of decimal values do not round-trip exactly.
  const double slack = 1e-9 * std::max({1.0, std::abs(*a), std::abs(*b)});
  const double distance = std::abs(*b - *a);
  return distance <= around_from->second - *a + slack || distance <= around_to->second - *b + slack;
}

Point Guardrails::step_toward(const Point& applied, const Point& target) const {
  Box box;
  box.limits.resize(space_->size());
  for (std::size_t i = 0; i < space_->size(); ++i)
    if (!within_delta(i, applied, target))
      if (auto range = delta_range(i, applied)) {
        box.limits[i].lower = range->first;
        box.limits[i].upper = range->second;
      }
  Point next = target;
  clamp_into(*space_, box, next);
  return next;
}

std::optional<Refusal> Guardrails::check_step(const Point& applied, const Point& next) const {
  if (auto why = space_->check(next)) return Refusal{"bounds", *why};
  for (std::size_t i = 0; i < space_->size(); ++i) {
    const auto range = delta_range(i, applied);
    const auto value = numeric(next.values[i]);
    if (!range || !value) continue;
    if (!within_delta(i, applied, next))
      return Refusal{"max_delta", "'" + space_->params()[i].name + "' would move from " +
                                      format(*numeric(applied.values[i])) + " to " + format(*value) +
                                      ", more than its max_delta allows (" + format(range->first) + " to " +
                                      format(range->second) + ")"};
  }
  return std::nullopt;
}

TimePoint Guardrails::earliest_apply(Purpose purpose, TimePoint now) const {
  if (!last_apply_) return TimePoint::min();
  const auto last = std::min(*last_apply_, now);
  const auto interval = std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::duration<double>(1.0 / policy_.max_updates_per_second));
  auto earliest = last + interval;
  const bool undoes_harm = purpose == Purpose::rollback || purpose == Purpose::restore;
  if (!undoes_harm) earliest = std::max(earliest, last + std::chrono::duration_cast<TimePoint::duration>(policy_.min_dwell));
  return earliest;
}

void Guardrails::record_apply(const Point& from, const Point& to, TimePoint now, Purpose purpose) {
  last_apply_ = now;
  if (purpose != Purpose::candidate) return;
  for (std::size_t i = 0; i < space_->size(); ++i) {
    const auto a = numeric(from.values.at(i));
    const auto b = numeric(to.values.at(i));
    const int direction = (a && b) ? (*b > *a) - (*b < *a) : 0;
    auto& memory = directions_[i];
    // A thrashing parameter that stood still for a step has served its hold: start afresh.
    if (direction == 0 && flips(i) >= policy_.max_direction_flips) memory.clear();
    memory.push_back(direction);
    while (memory.size() > policy_.flip_memory) memory.pop_front();
  }
}

void Guardrails::record_rollback(TimePoint now) { rollbacks_.push_back(now); }

std::size_t Guardrails::rollbacks_in_last_hour(TimePoint now) const {
  return static_cast<std::size_t>(
      std::count_if(rollbacks_.begin(), rollbacks_.end(), [&](TimePoint t) { return t > now - 1h; }));
}

bool Guardrails::rollback_budget_left(TimePoint now) const {
  return rollbacks_in_last_hour(now) < policy_.max_rollbacks_per_hour;
}

std::optional<TimePoint> Guardrails::budget_refills_at(TimePoint now) const {
  for (auto t : rollbacks_)
    if (t > now - 1h) return t + 1h;
  return std::nullopt;
}

} // namespace trimtab
