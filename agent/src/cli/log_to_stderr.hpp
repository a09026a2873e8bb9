#pragma once

#include <string_view>

#include <trimtab/agent/agent.hpp>

namespace trimtab::cli {

/// Whether stderr is the journal's stream: systemd sets $JOURNAL_STREAM to "DEVICE:INODE" of the
/// stream it connected, and that stream is still ours only while stderr has that device and inode
/// (a redirect in a wrapper script makes it a file again).
[[nodiscard]] bool stderr_is_journal();

/// Log lines on stderr, one per line, from `minimum`: "2026-11-24T03:41:07Z info  applied {...}"
/// on a terminal or in a file; "<6>applied {...}" when stderr is the journal's, which keeps its
/// own time stamps and reads the sd-daemon(3) prefix as the line's priority (journalctl -p).
[[nodiscard]] LogSink log_to_stderr(LogLevel minimum);

/// Writes an error (possibly several lines) to stderr; under the journal each line carries the
/// error priority, so `journalctl -p err` shows a config's mistakes as well as the agent's.
void print_error(std::string_view text);

} // namespace trimtab::cli
