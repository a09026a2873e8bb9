#include <trimtab/core/journal_codec.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

#include <trimtab/core/settings.hpp>

#include <trimtab/core/overloaded.hpp>

namespace trimtab {
namespace {

namespace json = boost::json;

// --- reading ----------------------------------------------------------------------------------

// Reads the fields of one record; every error names the field.
class Fields {
public:
  explicit Fields(const json::object& json) : json_(json) {}

  [[nodiscard]] const json::value* find(std::string_view key) const { return json_.if_contains(key); }

  [[nodiscard]] const json::value& at(std::string_view key) const {
    const auto* value = find(key);
    if (value == nullptr) throw std::invalid_argument("has no '" + std::string(key) + "'");
    return *value;
  }

  [[nodiscard]] static std::optional<double> as_number(const json::value& value) {
    boost::system::error_code ec;
    const auto number = value.to_number<double>(ec);
    return ec ? std::nullopt : std::optional<double>(number);
  }

  [[nodiscard]] double number(std::string_view key) const {
    if (auto n = as_number(at(key))) return *n;
    throw wrong(key, "a number");
  }

  /// A number, or nothing when absent or null.
  [[nodiscard]] std::optional<double> maybe_number(std::string_view key) const {
    const auto* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (auto n = as_number(*value)) return n;
    throw wrong(key, "a number or null");
  }

  // A count written by the agent: a whole number from 0 to 2^53.
  [[nodiscard]] std::size_t count(std::string_view key) const {
    const double value = number(key);
    if (!(value >= 0.0 && value <= 9'007'199'254'740'992.0) || value != std::floor(value)) throw wrong(key, "a count");
    return static_cast<std::size_t>(value);
  }

  [[nodiscard]] std::optional<std::size_t> maybe_count(std::string_view key) const {
    const auto* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    return count(key);
  }

  [[nodiscard]] std::string text(std::string_view key) const {
    const auto& value = at(key);
    if (!value.is_string()) throw wrong(key, "a string");
    return std::string(value.get_string());
  }

  [[nodiscard]] std::string maybe_text(std::string_view key) const { return find(key) ? text(key) : std::string(); }

  /// A flag written only when it differs from `absent`.
  [[nodiscard]] bool flag(std::string_view key, bool absent) const {
    const auto* value = find(key);
    if (value == nullptr) return absent;
    if (!value->is_bool()) throw wrong(key, "true or false");
    return value->get_bool();
  }

  [[nodiscard]] Settings point(std::string_view key) const {
    try {
      return settings_from_json(at(key));
    } catch (const std::invalid_argument& e) {
      if (find(key) == nullptr) throw;
      throw std::invalid_argument("'" + std::string(key) + "': " + e.what());
    }
  }

  [[nodiscard]] std::optional<Settings> maybe_point(std::string_view key) const {
    const auto* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    return point(key);
  }

  /// A name that `from_name` (purpose_from_name, mode_from_name, …) knows, as its enum.
  template <class FromName>
  [[nodiscard]] auto named(std::string_view key, const char* what, FromName from_name) const {
    const auto name = text(key);
    if (auto known = from_name(name)) return *known;
    throw std::invalid_argument("'" + std::string(key) + "': unknown " + what + " '" + name + "'");
  }

  [[nodiscard]] Purpose purpose(std::string_view key) const { return named(key, "purpose", purpose_from_name); }

  /// Numbers or nulls; a missing array is empty.
  [[nodiscard]] std::vector<std::optional<double>> numbers(std::string_view key) const {
    std::vector<std::optional<double>> out;
    const auto* value = find(key);
    if (value == nullptr) return out;
    if (!value->is_array()) throw wrong(key, "an array");
    for (const auto& item : value->get_array()) {
      if (item.is_null()) {
        out.emplace_back();
      } else if (auto n = as_number(item)) {
        out.emplace_back(*n);
      } else {
        throw wrong(key, "an array of numbers");
      }
    }
    return out;
  }

private:
  static std::invalid_argument wrong(std::string_view key, const char* what) {
    return std::invalid_argument("'" + std::string(key) + "' is not " + what);
  }

  const json::object& json_;
};

StartRecord read_start(const Fields& f) {
  StartRecord r;
  r.baseline = f.point("baseline");
  r.enabled = f.flag("enabled", true);
  if (f.find("mode") != nullptr) r.mode = f.named("mode", "mode", mode_from_name);
  r.resumed = f.flag("resumed", false);
  if (const auto* objective = f.find("objective"); objective != nullptr && objective->is_object()) {
    const Fields o(objective->get_object());
    r.direction = o.maybe_text("direction") == "minimize" ? Direction::minimize : Direction::maximize;
    r.objective = o.maybe_text("expression");
  }
  if (const auto* constraints = f.find("constraints"); constraints != nullptr && constraints->is_array())
    for (const auto& c : constraints->get_array())
      if (c.is_string()) r.constraints.emplace_back(c.get_string());
  return r;
}

ObservationRecord read_observation(const Fields& f) {
  ObservationRecord r;
  r.point = f.point("point");
  r.purpose = f.purpose("purpose");
  if (const auto* signals = f.find("signals"); signals != nullptr && signals->is_object())
    for (const auto& [name, value] : signals->get_object())
      r.signals.emplace_back(std::string(name), value.is_null() ? std::nullopt : Fields::as_number(value));
  r.samples = f.maybe_count("samples");
  r.window = f.maybe_count("window");
  r.guard = f.flag("guard", false);
  r.failed = f.flag("failed", false);
  if (!r.failed) {
    r.value = f.number("value");
    r.sem = f.maybe_number("sem");
    if (f.find("constraints") == nullptr) throw std::invalid_argument("has no 'constraints'");
    r.constraints = f.numbers("constraints");
  }
  return r;
}

DecisionRecord read_decision(const Fields& f) {
  DecisionRecord r;
  r.point = f.maybe_point("point");
  r.verdict = f.named("verdict", "verdict", verdict_from_name);
  r.reason = f.maybe_text("reason");
  r.value = f.maybe_number("value");
  r.incumbent_value = f.maybe_number("incumbent_value");
  r.effect = f.maybe_number("effect");
  r.p_value = f.maybe_number("p_value");
  r.counted = f.flag("counted", true);
  if (f.find("pooled_value") != nullptr)
    r.pooled = PooledValue{f.number("pooled_value"), f.number("pooled_sem"), f.count("windows")};
  r.guard = f.flag("guard", false);
  return r;
}

IncumbentRecord read_incumbent(const Fields& f) {
  IncumbentRecord r;
  r.point = f.point("point");
  r.value = f.number("value");
  r.sem = f.maybe_number("sem");
  r.windows = f.maybe_count("windows");
  r.samples_count = f.maybe_count("samples_count");
  r.samples_mean = f.maybe_number("samples_mean");
  r.samples_variance = f.maybe_number("samples_variance");
  r.selected = f.flag("selected", false);
  r.load = f.maybe_number("load");
  return r;
}

ClaimRecord read_claim(const Fields& f) {
  ClaimRecord r;
  r.baseline = f.point("baseline");
  r.best = f.point("best");
  r.confidence = f.number("confidence");
  r.method = f.text("method");
  r.pairs = f.maybe_count("pairs");
  r.windows = f.maybe_count("windows");
  r.reason = f.maybe_text("reason");
  if (f.find("improvement") != nullptr)
    r.estimate = ClaimRecord::Estimate{f.number("baseline_value"), f.number("best_value"), f.number("improvement"),
                                       f.number("low"),            f.number("high"),       f.flag("relative", true)};
  return r;
}

RecommendationRecord read_recommendation(const Fields& f) {
  RecommendationRecord r;
  r.running = f.point("running");
  r.running_windows = f.count("running_windows");
  r.running_value = f.maybe_number("running_value");
  r.point = f.maybe_point("point");
  if (r.point) {
    r.value = f.number("value");
    r.windows = f.count("windows");
    r.same_as_running = f.flag("same_as_running", false);
  }
  if (f.find("effect") != nullptr)
    r.comparison = RecommendationRecord::Comparison{f.number("effect"), f.maybe_number("p_value"), f.maybe_number("confidence")};
  if (f.find("reason") != nullptr) r.reason = f.text("reason");
  return r;
}

JournalRecord read(const std::string& type, const Fields& f, const json::object& json) {
  if (type == "start") return read_start(f);
  if (type == "refusal") return RefusalRecord{f.maybe_text("reason"), f.maybe_text("detail"), f.maybe_point("point")};
  if (type == "proposal") return ProposalRecord{f.point("point")};
  if (type == "apply") return ApplyRecord{f.point("point"), f.purpose("purpose")};
  if (type == "applied") return AppliedRecord{f.point("point"), f.purpose("purpose")};
  if (type == "apply_failed") return ApplyFailedRecord{f.point("point"), f.purpose("purpose"), f.maybe_text("error")};
  if (type == "in_effect")
    return InEffectRecord{f.point("point"), f.flag("confirmed", false),
                          static_cast<std::int64_t>(f.maybe_count("waited_ms").value_or(0)), f.maybe_text("detail")};
  if (type == "observation") return read_observation(f);
  if (type == "decision") return read_decision(f);
  if (type == "incumbent") return read_incumbent(f);
  if (type == "switchback")
    return SwitchbackRecord{f.count("pair"),          f.count("of"),
                            f.point("candidate"), f.point("incumbent"),
                            f.number("incumbent_value"), f.number("candidate_value"),
                            f.number("difference"),    f.flag("final", false),
                            f.flag("guard", false)};
  if (type == "guard")
    return GuardRecord{f.point("point"), f.number("value"), f.number("sem"), f.count("windows"),
                       f.numbers("constraints"), f.maybe_text("reason")};
  if (type == "claim") return read_claim(f);
  if (type == "recommendation") return read_recommendation(f);
  if (type == "safe_mode") {
    (void)f.at("entered"); // required: replay acts on it
    return SafeModeRecord{f.flag("entered", false), f.maybe_text("reason")};
  }
  if (type == "operator") return OperatorRecord{f.named("action", "command", command_from_name), f.maybe_text("source")};
  if (type == "mode") return ModeRecord{f.named("mode", "mode", mode_from_name), f.maybe_text("source")};
  if (type == "done") return DoneRecord{f.maybe_text("reason"), f.maybe_point("best"), f.maybe_number("best_value")};
  if (type == "compacted") return CompactedRecord{f.count("dropped"), f.count("kept")};
  return UnknownRecord{json};
}

// --- writing ----------------------------------------------------------------------------------

json::value number_or_null(std::optional<double> v) { return v ? json::value(*v) : json::value(nullptr); }

json::array numbers_json(const std::vector<std::optional<double>>& values) {
  json::array out;
  for (const auto& v : values) out.push_back(v && std::isfinite(*v) ? json::value(*v) : json::value(nullptr));
  return out;
}

class Writer {
public:
  json::object operator()(const StartRecord& r) const {
    json::array constraints;
    for (const auto& c : r.constraints) constraints.emplace_back(c);
    return {{"type", "start"},
            {"baseline", point(r.baseline)},
            {"enabled", r.enabled},
            {"mode", mode_name(r.mode)},
            {"resumed", r.resumed},
            {"objective",
             {{"direction", r.direction == Direction::maximize ? "maximize" : "minimize"}, {"expression", r.objective}}},
            {"constraints", std::move(constraints)}};
  }
  json::object operator()(const RefusalRecord& r) const {
    json::object o{{"type", "refusal"}, {"reason", r.reason}, {"detail", r.detail}};
    if (r.point) o["point"] = point(*r.point);
    return o;
  }
  json::object operator()(const ProposalRecord& r) const { return {{"type", "proposal"}, {"point", point(r.point)}}; }
  json::object operator()(const ApplyRecord& r) const {
    return {{"type", "apply"}, {"point", point(r.point)}, {"purpose", purpose_name(r.purpose)}};
  }
  json::object operator()(const AppliedRecord& r) const {
    return {{"type", "applied"}, {"point", point(r.point)}, {"purpose", purpose_name(r.purpose)}};
  }
  json::object operator()(const ApplyFailedRecord& r) const {
    return {{"type", "apply_failed"}, {"point", point(r.point)}, {"purpose", purpose_name(r.purpose)}, {"error", r.error}};
  }
  json::object operator()(const InEffectRecord& r) const {
    json::object o{{"type", "in_effect"}, {"point", point(r.point)}, {"confirmed", r.confirmed}, {"waited_ms", r.waited_ms}};
    if (!r.confirmed) o["detail"] = r.detail;
    return o;
  }
  json::object operator()(const ObservationRecord& r) const {
    json::object signals;
    for (const auto& [name, value] : r.signals) signals[name] = number_or_null(value);
    json::object o{{"type", "observation"}, {"point", point(r.point)}, {"purpose", purpose_name(r.purpose)},
                   {"signals", std::move(signals)}};
    if (r.samples) o["samples"] = *r.samples;
    if (r.window) o["window"] = *r.window;
    if (r.guard) o["guard"] = true;
    if (r.failed) {
      o["failed"] = true;
    } else {
      o["value"] = r.value;
      if (r.sem) o["sem"] = *r.sem;
      o["constraints"] = numbers_json(r.constraints);
    }
    return o;
  }
  json::object operator()(const DecisionRecord& r) const {
    json::object o{{"type", "decision"}};
    if (r.point) o["point"] = point(*r.point);
    o["verdict"] = verdict_name(r.verdict);
    o["reason"] = r.reason;
    o["value"] = number_or_null(r.value);
    o["incumbent_value"] = number_or_null(r.incumbent_value);
    o["effect"] = number_or_null(r.effect);
    o["p_value"] = number_or_null(r.p_value);
    if (!r.counted) o["counted"] = false;
    if (r.pooled) {
      o["pooled_value"] = r.pooled->value;
      o["pooled_sem"] = r.pooled->sem;
      o["windows"] = r.pooled->windows;
    }
    if (r.guard) o["guard"] = true;
    return o;
  }
  json::object operator()(const IncumbentRecord& r) const {
    json::object o{{"type", "incumbent"}, {"point", point(r.point)}, {"value", r.value}};
    if (r.sem) o["sem"] = *r.sem;
    if (r.windows) o["windows"] = *r.windows;
    if (r.samples_count) o["samples_count"] = *r.samples_count;
    if (r.samples_mean) o["samples_mean"] = *r.samples_mean;
    if (r.samples_variance) o["samples_variance"] = *r.samples_variance;
    if (r.selected) o["selected"] = true;
    if (r.load) o["load"] = *r.load;
    return o;
  }
  json::object operator()(const SwitchbackRecord& r) const {
    json::object o{{"type", "switchback"},
                   {"pair", r.pair},
                   {"of", r.of},
                   {"candidate", point(r.candidate)},
                   {"incumbent", point(r.incumbent)},
                   {"incumbent_value", r.incumbent_value},
                   {"candidate_value", r.candidate_value},
                   {"difference", r.difference}};
    if (r.final_check) o["final"] = true;
    if (r.guard) o["guard"] = true;
    return o;
  }
  json::object operator()(const GuardRecord& r) const {
    return {{"type", "guard"},          {"point", point(r.point)}, {"value", r.value},
            {"sem", r.sem},             {"windows", r.windows},    {"constraints", numbers_json(r.constraints)},
            {"reason", r.reason}};
  }
  json::object operator()(const ClaimRecord& r) const {
    json::object o{{"type", "claim"}, {"baseline", point(r.baseline)}, {"best", point(r.best)}, {"confidence", r.confidence},
                   {"method", r.method}};
    if (r.pairs) o["pairs"] = *r.pairs;
    if (r.windows) o["windows"] = *r.windows;
    o["reason"] = r.reason;
    if (r.estimate) {
      o["baseline_value"] = r.estimate->baseline_value;
      o["best_value"] = r.estimate->best_value;
      o["improvement"] = r.estimate->improvement;
      o["low"] = r.estimate->low;
      o["high"] = r.estimate->high;
      o["relative"] = r.estimate->relative;
    }
    return o;
  }
  json::object operator()(const RecommendationRecord& r) const {
    json::object o{{"type", "recommendation"},
                   {"running", point(r.running)},
                   {"running_windows", r.running_windows},
                   {"running_value", number_or_null(r.running_value)}};
    if (r.point) {
      o["point"] = point(*r.point);
      o["value"] = r.value;
      o["windows"] = r.windows;
      o["same_as_running"] = r.same_as_running;
    } else {
      o["point"] = nullptr;
    }
    if (r.comparison) {
      o["effect"] = r.comparison->effect;
      o["p_value"] = number_or_null(r.comparison->p_value);
      o["confidence"] = number_or_null(r.comparison->confidence);
    }
    if (r.reason) o["reason"] = *r.reason;
    return o;
  }
  json::object operator()(const SafeModeRecord& r) const {
    return {{"type", "safe_mode"}, {"entered", r.entered}, {"reason", r.reason}};
  }
  json::object operator()(const OperatorRecord& r) const {
    return {{"type", "operator"}, {"action", command_name(r.action)}, {"source", r.source}};
  }
  json::object operator()(const ModeRecord& r) const {
    return {{"type", "mode"}, {"mode", mode_name(r.mode)}, {"source", r.source}};
  }
  json::object operator()(const DoneRecord& r) const {
    json::object o{{"type", "done"}, {"reason", r.reason}};
    if (r.best) o["best"] = point(*r.best);
    if (r.best_value) o["best_value"] = *r.best_value;
    return o;
  }
  json::object operator()(const CompactedRecord& r) const {
    return {{"type", "compacted"}, {"dropped", r.dropped}, {"kept", r.kept}};
  }
  json::object operator()(const UnknownRecord& r) const {
    json::object o; // not erase(): it moves the last key into the hole
    for (const auto& [key, value] : r.json)
      if (key != "seq" && key != "time") o.emplace(key, value);
    return o;
  }

private:
  [[nodiscard]] static json::object point(const Settings& p) { return settings_to_json(p); }
};

} // namespace

const char* verdict_name(DecisionVerdict verdict) noexcept {
  switch (verdict) {
  case DecisionVerdict::promote: return "promote";
  case DecisionVerdict::keep: return "keep";
  case DecisionVerdict::rollback: return "rollback";
  case DecisionVerdict::extend: return "extend";
  case DecisionVerdict::discard: return "discard";
  case DecisionVerdict::confirm: return "confirm";
  }
  return "unknown";
}

std::optional<DecisionVerdict> verdict_from_name(std::string_view name) noexcept {
  for (auto verdict : {DecisionVerdict::promote, DecisionVerdict::keep, DecisionVerdict::rollback, DecisionVerdict::extend,
                       DecisionVerdict::discard, DecisionVerdict::confirm})
    if (name == verdict_name(verdict)) return verdict;
  return std::nullopt;
}

std::string record_type(const JournalRecord& record) {
  if (const auto* unknown = std::get_if<UnknownRecord>(&record)) {
    const auto* type = unknown->json.if_contains("type");
    return type != nullptr && type->is_string() ? std::string(type->get_string()) : std::string();
  }
  return std::visit(
      detail::overloaded{[](const StartRecord&) { return "start"; }, [](const RefusalRecord&) { return "refusal"; },
                 [](const ProposalRecord&) { return "proposal"; }, [](const ApplyRecord&) { return "apply"; },
                 [](const AppliedRecord&) { return "applied"; }, [](const ApplyFailedRecord&) { return "apply_failed"; },
                 [](const InEffectRecord&) { return "in_effect"; }, [](const ObservationRecord&) { return "observation"; },
                 [](const DecisionRecord&) { return "decision"; }, [](const IncumbentRecord&) { return "incumbent"; },
                 [](const SwitchbackRecord&) { return "switchback"; }, [](const GuardRecord&) { return "guard"; },
                 [](const ClaimRecord&) { return "claim"; }, [](const RecommendationRecord&) { return "recommendation"; },
                 [](const SafeModeRecord&) { return "safe_mode"; }, [](const OperatorRecord&) { return "operator"; },
                 [](const ModeRecord&) { return "mode"; }, [](const DoneRecord&) { return "done"; },
                 [](const CompactedRecord&) { return "compacted"; }, [](const UnknownRecord&) { return ""; }},
      record);
}

json::object encode_record(const JournalRecord& record) { return std::visit(Writer(), record); }

json::object encode_line(const JournalLine& line) {
  json::object o;
  o.emplace("seq", line.seq);
  o.emplace("time", line.time_ms);
  for (auto& [key, value] : encode_record(line.record)) o.emplace(key, std::move(value));
  return o;
}

JournalRecord decode_record(const json::object& json) {
  const Fields fields(json);
  return read(fields.text("type"), fields, json);
}

JournalLine decode_line(const json::object& json) {
  const Fields fields(json);
  JournalLine line;
  line.seq = fields.count("seq");
  // Unix milliseconds; outside 1970..2200 the record is corrupt, and would overflow the clock's
  // nanoseconds (found by fuzzing replay).
  const double time = fields.number("time");
  if (!(time >= 0.0 && time <= 7'258'118'400'000.0)) throw std::invalid_argument("'time' is not a time between 1970 and 2200");
  line.time_ms = static_cast<std::int64_t>(time);
  line.record = decode_record(json);
  return line;
}

} // namespace trimtab
