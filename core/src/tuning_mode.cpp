#include <trimtab/core/tuning_mode.hpp>

namespace trimtab {

const char* mode_name(TuningMode mode) noexcept { return mode == TuningMode::apply ? "apply" : "recommend"; }

std::optional<TuningMode> mode_from_name(std::string_view name) noexcept {
  for (auto mode : {TuningMode::apply, TuningMode::recommend})
    if (name == mode_name(mode)) return mode;
  return std::nullopt;
}

const char* command_name(OperatorCommand command) noexcept {
  switch (command) {
  case OperatorCommand::pause: return "pause";
  case OperatorCommand::resume: return "resume";
  case OperatorCommand::rollback: return "rollback";
  case OperatorCommand::recommend: return "recommend";
  case OperatorCommand::apply: return "apply";
  }
  return "unknown";
}

std::optional<OperatorCommand> command_from_name(std::string_view name) noexcept {
  for (auto command : {OperatorCommand::pause, OperatorCommand::resume, OperatorCommand::rollback,
                       OperatorCommand::recommend, OperatorCommand::apply})
    if (name == command_name(command)) return command;
  return std::nullopt;
}

} // namespace trimtab
