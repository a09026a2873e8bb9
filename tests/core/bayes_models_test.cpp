#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

#include "bayes/bayes_models.hpp"

using namespace trimtab;

namespace {

Space two_floats() { return Space({Param{"x", FloatRange{0.0, 1.0}, {}, {}}, Param{"y", FloatRange{0.0, 1.0}, {}, {}}}); }

// Five feasible evaluations at 1..5 along the diagonal and one more, at (0.9, 0.1), whose value and
// constraint the test chooses; the constraint holds when <= 0.
EvaluationHistory history_with(double other_value, double other_constraint) {
  EvaluationHistory history;
  for (int i = 0; i < 5; ++i) {
    const double at = 0.1 + 0.2 * i;
    history.add(Point{{at, at}}, Observation{1.0 + i, {-1.0}, false});
  }
  history.add(Point{{0.9, 0.1}}, Observation{other_value, {other_constraint}, false});
  return history;
}

void update(detail::BayesModels& models, const EvaluationHistory& history, std::mt19937_64& rng) {
  models.update(history.all(), history.measurements(), Direction::minimize, rng);
}

} // namespace

BOOST_AUTO_TEST_SUITE(bayes_models)

BOOST_AUTO_TEST_CASE(hyperparameters_are_refitted_often_early_and_at_least_every_100_measurements) {
  BOOST_TEST(detail::hyperparameters_due(39, 38));   // short history: every change
  BOOST_TEST(!detail::hyperparameters_due(43, 40));  // then a tenth of growth
  BOOST_TEST(detail::hyperparameters_due(44, 40));
  BOOST_TEST(!detail::hyperparameters_due(5099, 5000)); // a tenth would be 500 measurements
  BOOST_TEST(detail::hyperparameters_due(5100, 5000));
}

BOOST_AUTO_TEST_CASE(an_infeasible_evaluation_enters_the_objective_no_worse_than_the_worst_feasible) {
  // An overload: 1000 against values of 1 to 5, breaking the constraint. Left as measured it would
  // be the worst target by far (the prior mean sits at the worst), and every unexplored region
  // would look like an overload.
  const auto space = two_floats();
  std::mt19937_64 rng(1);
  detail::BayesModels models(space);
  update(models, history_with(1000.0, 1.0), rng);
  BOOST_REQUIRE(models.usable());
  const auto& targets = models.objective().targets();
  BOOST_REQUIRE(targets.size() == 6);
  // Rows follow the history: row 4 is the worst feasible (5), row 5 the overload.
  BOOST_TEST(targets[5] == targets[4]);
  BOOST_TEST(targets.maxCoeff() == targets[4]);

  // The same evaluation meeting the constraint is the worst, above every other.
  detail::BayesModels feasible(space);
  update(feasible, history_with(1000.0, -1.0), rng);
  BOOST_TEST(feasible.objective().targets()[5] > feasible.objective().targets()[4]);
}

BOOST_AUTO_TEST_CASE(an_infeasible_evaluation_that_scores_well_keeps_its_value) {
  // Capped from above only: under `minimize: pool`, a pool too small to meet the latency limit
  // scores best, and the constraint model, not the objective, must say why it is not chosen.
  const auto space = two_floats();
  std::mt19937_64 rng(1);
  detail::BayesModels models(space);
  update(models, history_with(0.5, 1.0), rng);
  const auto& targets = models.objective().targets();
  BOOST_TEST(targets[5] < targets[0]);
  BOOST_TEST(targets.minCoeff() == targets[5]);
}

BOOST_AUTO_TEST_SUITE_END()
