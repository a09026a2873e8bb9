#include <trimtab/agent/solve_session.hpp>

#include <cmath>
#include <istream>
#include <optional>
#include <ostream>
#include <stdexcept>

#include <boost/json.hpp>

#include <trimtab/core/json_text.hpp>
#include <trimtab/core/point_json.hpp>

namespace trimtab {
namespace {

namespace json = boost::json;

std::optional<double> finite_number(const json::value& v) {
  double d = 0;
  if (v.is_int64()) d = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
  else if (v.is_double()) d = v.get_double();
  else return std::nullopt;
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// The observation part of a result or history line; `extra` lists the other keys the line may have.
Observation read_observation(const json::object& line, std::initializer_list<std::string_view> extra) {
  for (const auto& entry : line) {
    const auto key = entry.key();
    bool known = key == "value" || key == "failed" || key == "constraints" || key == "sem";
    for (auto k : extra) known = known || key == k;
    if (!known) throw std::invalid_argument("unknown key '" + std::string(key) + "'");
  }
  Observation observation;
  if (const auto* failed = line.if_contains("failed")) {
    if (!failed->is_bool()) throw std::invalid_argument("'failed' must be true or false");
    observation.failed = failed->get_bool();
  }
  if (const auto* constraints = line.if_contains("constraints")) {
    if (!constraints->is_array()) throw std::invalid_argument("'constraints' must be a list of numbers");
    for (const auto& c : constraints->get_array()) {
      const auto number = finite_number(c);
      if (!number) throw std::invalid_argument("'constraints' must hold finite numbers only");
      observation.constraints.push_back(*number);
    }
  }
  if (const auto* sem = line.if_contains("sem")) {
    const auto number = finite_number(*sem);
    if (!number || *number < 0.0) throw std::invalid_argument("'sem' must be a finite number >= 0 (the value's standard error)");
    observation.sem = *number;
  }
  if (observation.failed) return observation;
  const auto* value = line.if_contains("value");
  if (!value) throw std::invalid_argument("no 'value' (report a candidate that could not be measured as \"failed\": true)");
  const auto number = finite_number(*value);
  if (!number) throw std::invalid_argument("'value' must be a finite number");
  observation.value = *number;
  return observation;
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto parsed = json::parse(text, ec);
  if (ec) throw std::invalid_argument("not valid JSON (" + ec.message() + ")");
  if (!parsed.is_object()) throw std::invalid_argument("expected a JSON object");
  return std::move(parsed.get_object());
}

bool blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// The proposal id of an evaluated configuration: the session's tells are its proposals in order,
// after `seeded` tells from a history; nothing for a configuration first told by the history.
std::optional<std::size_t> proposal_id(const Evaluation& evaluation, std::size_t seeded) {
  if (evaluation.first_told < seeded) return std::nullopt;
  return evaluation.first_told - seeded;
}

json::object best_json(Solver& solver, std::size_t seeded) {
  const Evaluation* best = solver.recommendation();
  json::object result;
  if (!best) return result;
  if (const auto id = proposal_id(*best, seeded)) result["id"] = *id;
  else result["from_history"] = true;
  result["params"] = point_to_json(solver.space(), best->point);
  result["value"] = best->value();
  if (const auto sem = best->sem()) result["sem"] = *sem;
  if (!best->constraint_sums.empty()) {
    const auto constraints = best->constraints();
    result["constraints"] = json::array(constraints.begin(), constraints.end());
  }
  return result;
}

} // namespace

std::vector<Trial> read_history(const Space& space, std::istream& in, const std::string& source) {
  std::vector<Trial> trials;
  std::string text;
  for (std::size_t line_number = 1; std::getline(in, text); ++line_number) {
    if (blank(text)) continue;
    try {
      const auto line = parse_object(text);
      const auto* params = line.if_contains("params");
      if (!params) throw std::invalid_argument("no 'params'");
      auto point = point_from_json(space, *params);
      trials.push_back(Trial{std::move(point), read_observation(line, {"params", "id"})});
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(source + ":" + std::to_string(line_number) + ": " + e.what());
    }
  }
  return trials;
}

SolveExit run_solve_session(Solver& solver, std::size_t budget, std::istream& in, std::ostream& out, std::ostream& err) {
  const std::size_t seeded = solver.measurements();
  std::size_t line_number = 0;
  std::string text;
  std::size_t evaluations = 0;
  for (; evaluations < budget; ++evaluations) {
    auto point = solver.ask();
    if (!point) break;
    json::object proposal;
    proposal["id"] = evaluations;
    proposal["params"] = point_to_json(solver.space(), *point);
    // What the solver would deploy now, so a driver can follow it without waiting for the end.
    if (const Evaluation* incumbent = solver.recommendation())
      if (const auto id = proposal_id(*incumbent, seeded)) proposal["incumbent"] = *id;
    out << to_json_text(proposal) << '\n' << std::flush;

    bool got_line = false;
    while (std::getline(in, text)) {
      ++line_number;
      if (!blank(text)) {
        got_line = true;
        break;
      }
    }
    if (!got_line) {
      err << "trimtab solve: input ended before the result for id " << evaluations << '\n';
      return SolveExit::bad_input;
    }
    try {
      const auto line = parse_object(text);
      const auto* id = line.if_contains("id");
      if (!id) throw std::invalid_argument("no 'id'");
      const auto id_number = finite_number(*id);
      if (!id_number || *id_number != static_cast<double>(evaluations))
        throw std::invalid_argument("'id' is " + json::serialize(*id) + " but the open proposal is " +
                                    std::to_string(evaluations));
      solver.tell(*point, read_observation(line, {"id"}));
    } catch (const std::invalid_argument& e) {
      err << "trimtab solve: input line " << line_number << ": " << e.what() << '\n';
      return SolveExit::bad_input;
    }
  }
  json::object summary;
  const auto best = best_json(solver, seeded);
  if (best.empty()) summary["best"] = nullptr;
  else summary["best"] = best;
  summary["evaluations"] = evaluations;
  out << to_json_text(summary) << '\n' << std::flush;
  return SolveExit::done;
}

} // namespace trimtab
