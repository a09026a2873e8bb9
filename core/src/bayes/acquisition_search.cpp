#include "acquisition_search.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlopt.h>

namespace trimtab::detail {
namespace {

// Int ranges with more values than this are searched as continuous coordinates and rounded: a
// pool size from 1 to 500 has too many neighbours to walk one step at a time.
constexpr std::uint64_t max_enumerated_values = 16;
// Local refinements per ask, and the budget of each L-BFGS run.
constexpr std::size_t refined_starts = 2;
constexpr int gradient_evaluations = 40;
// Rounds of (gradient steps, then one move of a discrete parameter) per refinement.
constexpr int refine_rounds = 3;
// Perturbations around each of the best evaluations, at two scales (fine, to polish the
// incumbent; coarse, to look around it).
constexpr std::size_t local_per_anchor = 12;
constexpr double local_fine = 0.02, local_coarse = 0.1;

std::size_t sweep_size(std::size_t dimensions) { return std::clamp<std::size_t>(64 + 16 * dimensions, 96, 384); }

struct GradientContext {
  const Acquisition* acquisition;
  std::vector<double>* x;
  const std::vector<std::size_t>* coordinates;
  std::vector<double> gradient;
};

double negative_acquisition(unsigned n, const double* free, double* gradient, void* data) {
  auto* context = static_cast<GradientContext*>(data);
  for (unsigned i = 0; i < n; ++i) (*context->x)[(*context->coordinates)[i]] = free[i];
  const double value = (*context->acquisition)(context->x->data(), gradient ? context->gradient.data() : nullptr);
  if (gradient)
    for (unsigned i = 0; i < n; ++i) gradient[i] = -context->gradient[(*context->coordinates)[i]];
  return std::isfinite(value) ? -value : 1e300;
}

} // namespace

AcquisitionSearch::AcquisitionSearch(const Space& space, std::uint64_t seed)
    : space_(&space), sweep_(space.dimensions(), seed ^ 0x5eedf00dULL) {
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& param = space.params()[i];
    const auto count = value_count(param);
    const bool relaxed = !count || (std::holds_alternative<IntRange>(param.domain) && *count > max_enumerated_values);
    relaxed_param_.push_back(relaxed);
    if (relaxed) relaxed_.push_back(space.offset(i));
    relaxed_ints_ = relaxed_ints_ || (relaxed && count);
  }
}

void AcquisitionSearch::snap(std::vector<double>& x, bool relaxed_too) const {
  for (std::size_t i = 0; i < space_->size(); ++i) {
    const auto& param = space_->params()[i];
    if (std::holds_alternative<FloatRange>(param.domain) || (relaxed_param_[i] && !relaxed_too)) continue;
    const std::span<double> coordinates(x.data() + space_->offset(i), encoded_width(param));
    Space::encode_value(param, Space::decode_value(param, coordinates), coordinates);
  }
}

void AcquisitionSearch::clamp(std::vector<double>& x, const UnitBox& box) const {
  for (std::size_t d = 0; d < x.size(); ++d) x[d] = std::clamp(x[d], box.lower[d], box.upper[d]);
}

AcquisitionSearch::Candidate AcquisitionSearch::gradient_steps(const Acquisition& acquisition, std::vector<double> x,
                                                               const UnitBox& box) const {
  std::vector<std::size_t> free;
  for (auto d : relaxed_)
    if (box.upper[d] - box.lower[d] > 1e-12) free.push_back(d);
  if (free.empty()) return {acquisition(x.data(), nullptr), std::move(x)};
  std::vector<double> start, lower, upper;
  for (auto d : free) {
    start.push_back(x[d]);
    lower.push_back(box.lower[d]);
    upper.push_back(box.upper[d]);
  }
  GradientContext context{&acquisition, &x, &free, std::vector<double>(x.size())};
  nlopt_opt optimiser = nlopt_create(NLOPT_LD_LBFGS, static_cast<unsigned>(free.size()));
  nlopt_set_min_objective(optimiser, negative_acquisition, &context);
  nlopt_set_lower_bounds(optimiser, lower.data());
  nlopt_set_upper_bounds(optimiser, upper.data());
  nlopt_set_maxeval(optimiser, gradient_evaluations);
  nlopt_set_xtol_abs1(optimiser, 1e-9);
  double minimum = 0.0;
  const auto result = nlopt_optimize(optimiser, start.data(), &minimum);
  nlopt_destroy(optimiser);
  // L-BFGS hands back its best point even when stopped by round-off; on a hard failure the start
  // (still in `x` from the last evaluation) is re-scored below.
  if (result > 0 || result == NLOPT_ROUNDOFF_LIMITED)
    for (std::size_t i = 0; i < free.size(); ++i) x[free[i]] = start[i];
  return {acquisition(x.data(), nullptr), std::move(x)};
}

AcquisitionSearch::Candidate AcquisitionSearch::best_neighbour(const Acquisition& acquisition,
                                                               const std::vector<double>& x, const UnitBox& box) const {
  Candidate best{-INFINITY, x};
  std::vector<double> trial;
  for (std::size_t i = 0; i < space_->size(); ++i) {
    const auto& param = space_->params()[i];
    if (std::holds_alternative<FloatRange>(param.domain)) continue;
    const auto offset = space_->offset(i);
    const auto width = encoded_width(param);
    const auto current = Space::decode_value(param, std::span<const double>(x.data() + offset, width));
    std::vector<Value> neighbours;
    if (const auto* r = std::get_if<IntRange>(&param.domain)) {
      const auto v = std::get<std::int64_t>(current);
      if (v - r->step >= r->min) neighbours.emplace_back(v - r->step);
      if (v + r->step <= r->max) neighbours.emplace_back(v + r->step);
    } else if (const auto* o = std::get_if<OrdinalChoices>(&param.domain)) {
      const auto at = std::find(o->choices.begin(), o->choices.end(), std::get<double>(current)) - o->choices.begin();
      if (at > 0) neighbours.emplace_back(o->choices[static_cast<std::size_t>(at - 1)]);
      if (static_cast<std::size_t>(at) + 1 < o->choices.size()) neighbours.emplace_back(o->choices[static_cast<std::size_t>(at + 1)]);
    } else {
      for (const auto& label : std::get<CategoricalChoices>(param.domain).choices)
        if (label != std::get<std::string>(current)) neighbours.emplace_back(label);
    }
    for (const auto& value : neighbours) {
      trial = x;
      Space::encode_value(param, value, std::span<double>(trial.data() + offset, width));
      bool inside = true;
      for (std::size_t d = offset; d < offset + width; ++d)
        inside = inside && trial[d] >= box.lower[d] && trial[d] <= box.upper[d];
      if (!inside) continue;
      const double value_here = acquisition(trial.data(), nullptr);
      if (value_here > best.value) best = {value_here, trial};
    }
  }
  return best;
}

AcquisitionSearch::Candidate AcquisitionSearch::refine(const Acquisition& acquisition, std::vector<double> x,
                                                       const UnitBox& box) const {
  Candidate current{0.0, {}};
  for (int round = 0; round < refine_rounds; ++round) {
    current = gradient_steps(acquisition, std::move(x), box);
    snap(current.x, true);
    current.value = acquisition(current.x.data(), nullptr);
    auto neighbour = best_neighbour(acquisition, current.x, box);
    if (!(neighbour.value > current.value + 1e-12)) break;
    x = std::move(neighbour.x);
    current.value = neighbour.value;
  }
  return current;
}

std::optional<Point> AcquisitionSearch::maximise(const Acquisition& acquisition, const BatchAcquisition& batch,
                                                 const UnitBox& box, std::span<const std::vector<double>> anchors,
                                                 const PointSet& exclude, std::mt19937_64& rng) {
  const auto dimensions = space_->dimensions();
  std::vector<std::vector<double>> points;
  std::vector<double> x(dimensions);
  for (std::size_t i = 0, n = sweep_size(dimensions); i < n; ++i) {
    sweep_.next(x);
    box.place(x);
    snap(x, false);
    points.push_back(x);
  }
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (const auto& anchor : anchors) {
    for (std::size_t k = 0; k < local_per_anchor; ++k) {
      x = anchor;
      const double scale = k % 2 == 0 ? local_fine : local_coarse;
      for (auto d : relaxed_) x[d] += scale * normal(rng);
      // Now and then a discrete parameter jumps to a random value.
      for (std::size_t i = 0; i < space_->size(); ++i) {
        if (relaxed_param_[i] || uniform(rng) > 1.0 / static_cast<double>(space_->size())) continue;
        for (std::size_t d = 0; d < encoded_width(space_->params()[i]); ++d) x[space_->offset(i) + d] = uniform(rng);
      }
      clamp(x, box);
      snap(x, false);
      points.push_back(x);
    }
  }
  std::vector<double> values;
  batch(points, values);
  std::vector<Candidate> candidates;
  candidates.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) candidates.push_back({values[i], std::move(points[i])});
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.value > b.value; });

  // Refine the best few distinct starts.
  std::vector<Candidate> finals;
  std::set<Point> started;
  for (const auto& candidate : candidates) {
    if (finals.size() == refined_starts) break;
    if (!started.insert(space_->decode(candidate.x)).second) continue;
    finals.push_back(refine(acquisition, candidate.x, box));
  }
  // The unrefined candidates, rescored once snapped (a relaxed int moves to its value), stand in
  // when every refined point has been evaluated already.
  if (relaxed_ints_) {
    points.clear();
    for (auto& candidate : candidates) {
      snap(candidate.x, true);
      points.push_back(candidate.x);
    }
    batch(points, values);
    for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i].value = values[i];
  }
  finals.insert(finals.end(), std::make_move_iterator(candidates.begin()), std::make_move_iterator(candidates.end()));
  std::stable_sort(finals.begin(), finals.end(), [](const auto& a, const auto& b) { return a.value > b.value; });
  for (const auto& candidate : finals) {
    auto point = space_->decode(candidate.x);
    if (!exclude.contains(point)) return point;
  }
  return std::nullopt;
}

} // namespace trimtab::detail
