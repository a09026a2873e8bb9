#pragma once

#include <optional>
#include <string_view>

namespace trimtab {

/// apply: tune the service. recommend: apply nothing; measure what runs, window after window, and
/// publish what the solver (seeded from earlier runs or offline results) recommends, with evidence.
enum class TuningMode { apply, recommend };
/// "apply" or "recommend".
[[nodiscard]] const char* mode_name(TuningMode mode) noexcept;
/// The mode mode_name() calls `name`, or nothing.
[[nodiscard]] std::optional<TuningMode> mode_from_name(std::string_view name) noexcept;

/// What an operator can tell a running agent (the control server, `trimtab pause`, …).
enum class OperatorCommand { pause, resume, rollback, recommend, apply };
/// "pause", "resume", "rollback", "recommend", "apply".
[[nodiscard]] const char* command_name(OperatorCommand command) noexcept;
/// The command command_name() calls `name`, or nothing.
[[nodiscard]] std::optional<OperatorCommand> command_from_name(std::string_view name) noexcept;

} // namespace trimtab
