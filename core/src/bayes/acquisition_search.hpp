#pragma once

// Internal: maximising an acquisition function over a mixed space of continuous and discrete
// parameters, inside a box.

#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include <trimtab/core/box.hpp>
#include <trimtab/core/point_set.hpp>
#include <trimtab/core/sobol_sequence.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab::detail {

/// Log-acquisition at a cube point; writes its gradient when the second argument is not null.
using Acquisition = std::function<double(const double*, double*)>;
/// The same at many cube points at once, without gradients: values[i] for points[i].
using BatchAcquisition = std::function<void(std::span<const std::vector<double>>, std::vector<double>&)>;

/// Multi-start local search. Float parameters, and int parameters with many values, are searched
/// as continuous coordinates by gradient steps (L-BFGS from NLopt); ordinals, labels and small
/// ints by moves to neighbouring values (the next choice either side, every other label). Starts
/// are the best of a Sobol sweep of the box and of perturbations around the best evaluations.
class AcquisitionSearch {
public:
  AcquisitionSearch(const Space& space, std::uint64_t seed);

  /// The configuration in `box`, not in `exclude`, with the highest acquisition found; nothing
  /// when every candidate found was excluded.
  [[nodiscard]] std::optional<Point> maximise(const Acquisition& acquisition, const BatchAcquisition& batch,
                                              const UnitBox& box,
                                              std::span<const std::vector<double>> anchors,
                                              const PointSet& exclude, std::mt19937_64& rng);

private:
  struct Candidate {
    double value;
    std::vector<double> x;
  };

  // Snaps the coordinates of discrete parameters (all of them when `relaxed_too`) to their values.
  void snap(std::vector<double>& x, bool relaxed_too) const;
  void clamp(std::vector<double>& x, const UnitBox& box) const;
  [[nodiscard]] Candidate refine(const Acquisition& acquisition, std::vector<double> x, const UnitBox& box) const;
  [[nodiscard]] Candidate gradient_steps(const Acquisition& acquisition, std::vector<double> x, const UnitBox& box) const;
  [[nodiscard]] Candidate best_neighbour(const Acquisition& acquisition, const std::vector<double>& x,
                                         const UnitBox& box) const;

  const Space* space_;
  SobolSequence sweep_;
  std::vector<std::size_t> relaxed_;     // cube coordinates searched continuously
  std::vector<bool> relaxed_param_;      // per parameter
  bool relaxed_ints_ = false;            // some int parameter is searched continuously
};

} // namespace trimtab::detail
