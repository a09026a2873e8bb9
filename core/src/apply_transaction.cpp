#include <trimtab/core/apply_transaction.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <trimtab/core/ascii.hpp>

namespace trimtab {
namespace {

std::optional<double> as_number(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::nullopt;
}

// "; reverted 'a' 'b'; COULD NOT REVERT c (why)", for an apply's failure message.
std::string revert_summary(const std::vector<std::string>& reverted, const std::vector<std::string>& stuck) {
  std::string message;
  if (!reverted.empty()) {
    message += "; reverted";
    for (const auto& name : reverted) message += " '" + name + "'";
  }
  if (!stuck.empty()) {
    message += "; COULD NOT REVERT";
    for (const auto& name : stuck) message += " " + name;
  }
  return message;
}

} // namespace

ApplyTransaction::ApplyTransaction(std::vector<AdapterChange> changes) : changes_(std::move(changes)) {
  if (changes_.empty()) next_ = ApplyOutcome{};
  else next_ = ApplyCall{0, changes_[0].wanted};
}

template <class Call> const Call& ApplyTransaction::expect(const char* answer) const {
  const auto* call = std::get_if<Call>(&next_);
  if (call == nullptr) throw std::logic_error(std::string("ApplyTransaction: ") + answer + " answers no call made");
  return *call;
}

void ApplyTransaction::applied(bool ok, const std::string& error) {
  const auto index = expect<ApplyCall>("applied()").index;
  if (!ok) return fail(ApplyOutcome::Failure::apply_failed, index, error);
  applied_ = index + 1;
  if (applied_ < changes_.size()) next_ = ApplyCall{applied_, changes_[applied_].wanted};
  else read_back_next();
}

void ApplyTransaction::read_back_next() {
  if (checked_ < applied_) next_ = ReadBackCall{checked_};
  else next_ = ApplyOutcome{};
}

void ApplyTransaction::read_back(const ReadBack& answer) {
  const auto index = expect<ReadBackCall>("read_back()").index;
  checked_ = index + 1;
  if (answer.kind == ReadBack::Kind::settings) {
    const auto& change = changes_[index];
    if (auto lie = unchanged_setting(change.wanted, change.before, answer.reported))
      return fail(ApplyOutcome::Failure::did_not_take, index, "adapter '" + change.adapter + "' reported success but " + *lie);
  }
  read_back_next();
}

void ApplyTransaction::fail(ApplyOutcome::Failure failure, std::size_t index, std::string message) {
  failure_ = ApplyOutcome{false, failure, changes_[index].adapter, std::move(message), {}};
  undo_next();
}

void ApplyTransaction::undo_next() {
  if (undone_ < applied_) {
    const auto index = applied_ - 1 - undone_;
    next_ = UndoCall{index, changes_[index].before};
    return;
  }
  auto outcome = std::move(failure_);
  outcome.message += revert_summary(reverted_, stuck_reasons_);
  next_ = std::move(outcome);
}

void ApplyTransaction::undone(bool ok, const std::string& error) {
  const auto index = expect<UndoCall>("undone()").index;
  ++undone_;
  const auto& name = changes_[index].adapter;
  if (ok) {
    reverted_.push_back(name);
  } else {
    failure_.stuck.push_back(name);
    stuck_reasons_.push_back(name + " (" + error + ")");
  }
  undo_next();
}

std::optional<std::string> unchanged_setting(const Settings& asked, const Settings& before, const Settings& reported) {
  for (std::size_t i = 0; i < asked.size(); ++i) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const auto& name = asked[i].first;
    const auto& wanted = asked[i].second;
    if (wanted == before[i].second) continue;
    const auto it = std::find_if(reported.begin(), reported.end(), [&](const auto& s) { return s.first == name; });
    if (it == reported.end()) continue;
    const auto want = as_number(wanted), had = as_number(before[i].second), got = as_number(it->second);
    const bool took = want && had && got ? std::abs(*got - *want) <= std::abs(*got - *had)
                                         : ascii::lower(format_value(it->second)) == ascii::lower(format_value(wanted));
    if (!took)
      return "reads back " + name + "=" + format_value(it->second) + " (asked " + format_value(wanted) + ", was " +
             format_value(before[i].second) + ")";
  }
  return std::nullopt;
}

} // namespace trimtab
