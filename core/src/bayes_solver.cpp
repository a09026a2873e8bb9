#include <trimtab/core/bayes_solver.hpp>

#include <algorithm>
#include <cmath>

#include "bayes/acquisition_search.hpp"
#include "bayes/bayes_models.hpp"

namespace trimtab {
namespace {

std::size_t default_initial_points(const Space& space) { return std::max<std::size_t>(5, space.dimensions() + 1); }

// Sobol draws that may land on evaluated configurations before the design gives up on a box.
constexpr int max_design_draws = 4096;
// The best evaluations that seed local candidates.
constexpr std::size_t anchor_count = 5;
// The local region's side, relative to the cube, at the start and at its largest; below the
// smallest it has converged and starts over.
constexpr double local_length_start = 0.4, local_length_max = 0.8, local_length_min = 1e-6;
// Of every three model-based asks, one searches the whole box and two the local region: measured
// on Branin and Hartmann-6, this polishes a found basin to 1e-6 within budget and, with a global
// ask in every three, finds other basins as often as one in two did.
constexpr std::size_t local_period = 3;

} // namespace

struct BayesSolver::State {
  detail::BayesModels models;
  detail::AcquisitionSearch search;
  std::size_t modelled_measurements = 0; // measurements() when the models were last rebuilt
};

BayesSolver::BayesSolver(Space space, SolverOptions options, BayesOptions bayes)
    : Solver(std::move(space), options),
      initial_points_(bayes.initial_points ? bayes.initial_points : default_initial_points(this->space())),
      rng_(options.seed), design_(this->space().dimensions(), options.seed), local_length_(local_length_start),
      state_(std::make_unique<State>(State{detail::BayesModels(this->space()),
                                           detail::AcquisitionSearch(this->space(), options.seed), 0})) {}

BayesSolver::~BayesSolver() = default;

std::optional<Point> BayesSolver::ask(const Box& within) {
  const auto box = to_unit_box(space(), within);
  std::optional<Point> point;
  bool local = false;
  if (measurements() + pending_.size() >= initial_points_) {
    local = model_asks_++ % local_period != 0;
    point = model_point(box, local);
    if (!point && local) {
      local = false;
      point = model_point(box, false);
    }
  }
  if (!point) point = design_point(box);
  if (!point) return std::nullopt;
  clamp_into(space(), within, *point);
  if (local) pending_local_.push_back(*point);
  visited_.insert(*point);
  pending_.push_back(*point);
  return point;
}

std::optional<Point> BayesSolver::design_point(const UnitBox& box) {
  std::vector<double> unit(space().dimensions());
  for (int draw = 0; draw < max_design_draws; ++draw) {
    design_.next(unit);
    box.place(unit);
    auto point = space().decode(unit);
    if (!visited_.contains(point)) return point;
  }
  return std::nullopt;
}

UnitBox BayesSolver::local_box(const UnitBox& box) const {
  // Centred on the incumbent (or the nearest point of the box when the incumbent lies outside it),
  // stretched along coordinates the model finds smooth (TuRBO's shape).
  const auto& models = state_->models;
  auto centre = models.best_inputs(1).front();
  for (std::size_t c = 0; c < centre.size(); ++c) centre[c] = std::clamp(centre[c], box.lower[c], box.upper[c]);
  const auto d = space().dimensions();
  double log_mean = 0.0;
  for (std::size_t c = 0; c < d; ++c) log_mean += std::log(models.objective().lengthscale(c));
  log_mean /= static_cast<double>(d);
  UnitBox local = box;
  for (std::size_t c = 0; c < d; ++c) {
    const double half = 0.5 * local_length_ * models.objective().lengthscale(c) / std::exp(log_mean);
    local.lower[c] = std::max(box.lower[c], centre[c] - half);
    local.upper[c] = std::min(box.upper[c], centre[c] + half);
  }
  return local;
}

void BayesSolver::refresh_models() {
  if (state_->modelled_measurements == measurements()) return;
  state_->models.update(history(), measurements(), options().direction, rng_);
  state_->modelled_measurements = measurements();
  // A local step succeeded when the model now rates it the best evaluation: with exact
  // measurements, when it measured lowest; with noisy ones, a lucky draw alone does not count.
  // With exact measurements one miss halves the region (fast polishing); with noisy ones a miss
  // is weak evidence, and it takes two in a row.
  const auto& models = state_->models;
  const int tolerance = models.noisy() ? 2 : 1;
  const auto incumbent = models.incumbent_evaluation();
  for (auto index : local_results_) {
    const bool improved = incumbent == index;
    local_misses_ = improved ? 0 : local_misses_ + 1;
    if (improved) local_length_ = std::min(2.0 * local_length_, local_length_max);
    else if (local_misses_ >= tolerance) {
      local_length_ *= 0.5;
      local_misses_ = 0;
    }
    if (local_length_ < local_length_min) local_length_ = local_length_start;
  }
  local_results_.clear();
}

const Evaluation* BayesSolver::recommendation() {
  if (measurements() < initial_points_) return best();
  refresh_models();
  const auto& models = state_->models;
  const auto incumbent = models.usable() ? models.incumbent_evaluation() : std::nullopt;
  if (!incumbent || !models.noisy()) return best();
  return &history()[*incumbent];
}

std::optional<Point> BayesSolver::model_point(const UnitBox& box, bool local) {
  auto& state = *state_;
  refresh_models();
  if (!state.models.usable()) return std::nullopt;
  if (local && state.models.best_inputs(1).empty()) return std::nullopt;
  const auto region = local ? local_box(box) : box;
  // Pending asks enter a copy of the models (see BayesModels::add_pending), so the next point goes
  // elsewhere.
  const detail::BayesModels* models = &state.models;
  std::optional<detail::BayesModels> with_pending;
  if (!pending_.empty()) {
    with_pending.emplace(state.models);
    std::vector<std::vector<double>> pending;
    for (const auto& p : pending_) pending.push_back(space().encode(p));
    with_pending->add_pending(pending);
    models = &*with_pending;
  }
  const auto anchors = models->best_inputs(anchor_count);
  const detail::Acquisition acquisition = [models](const double* x, double* gradient) {
    return models->acquisition(x, gradient);
  };
  const detail::BatchAcquisition batch = [models](std::span<const std::vector<double>> points, std::vector<double>& values) {
    models->acquisition(points, values);
  };
  return state.search.maximise(acquisition, batch, region, anchors, visited_, rng_);
}

void BayesSolver::cancel(const Point& point) {
  const auto it = std::find(pending_.begin(), pending_.end(), point);
  if (it == pending_.end()) return;
  pending_.erase(it);
  if (const auto local = std::find(pending_local_.begin(), pending_local_.end(), point); local != pending_local_.end())
    pending_local_.erase(local);
  if (evaluation(point) == nullptr) visited_.erase(point);
}

void BayesSolver::on_tell(std::size_t index) {
  const auto& point = history()[index].point;
  visited_.insert(point);
  const auto it = std::find(pending_.begin(), pending_.end(), point);
  if (it != pending_.end()) pending_.erase(it);
  const auto local = std::find(pending_local_.begin(), pending_local_.end(), point);
  if (local != pending_local_.end()) {
    pending_local_.erase(local);
    // Judged once the models include it: see refresh_models().
    local_results_.push_back(index);
  }
}

} // namespace trimtab
