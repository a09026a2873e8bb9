#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {

struct CommandAdapterOptions {
  /// The program that applies the settings and its arguments (required), argv[0] first. Each
  /// `{param}` in an argument is replaced by that parameter's value ("--size={pool_size}" becomes
  /// "--size=20"); `{{` and `}}` stand for literal braces. Every owned parameter must appear, and
  /// no other. argv[0] is a path, or a name looked up on PATH when the adapter is made.
  std::vector<std::string> command{};
  /// The program that prints the running values and its arguments (optional, no placeholders):
  /// its standard output is a JSON object or KEY=value lines holding each owned parameter.
  std::vector<std::string> current{};
  /// How long either may run; then it is killed, with its process group.
  std::chrono::milliseconds timeout{10000};
};

/// An adapter that runs a program to change a service's settings, and optionally another to read
/// them: `[/usr/local/bin/set-pool, "--size={pool_size}", "--policy={policy}"]`.
///
/// No shell is involved: the program is started with posix_spawn and gets each argument exactly as
/// substituted, spaces, quotes and `$(…)` included; a string value holding a NUL byte is refused.
/// Numbers are written as a service reads them: ints in decimal, whole floats as integers ("8"),
/// others in the shortest form that reads back exactly ("0.25"). The child's stdin is /dev/null,
/// it inherits no descriptor but stdout and stderr (pipes read on the executor's reactor) and it
/// leads its own process group.
///
/// An apply succeeds when the program exits with status 0. Any other status, a death by signal or
/// a start that fails completes with a message that names the program and quotes the end of its
/// stderr on one line ("adapter 'pool': /usr/local/bin/set-pool exited with status 3: size must be
/// <= 64"), with AdapterError::process_failed (or the system error of a start that failed). A
/// program still running after options.timeout is sent SIGKILL, with its process group, and the
/// operation completes with errc::timed_out once it is reaped.
///
/// A read runs options.current and takes each owned parameter from its output (other keys are
/// ignored; a missing one is AdapterError::missing_param): from a JSON object, integers as
/// std::int64_t, other numbers as double, strings as strings; from KEY=value lines, "20" as an
/// int64, "1.5" as a double, anything else (or a quoted value) as a string. Without a `current`
/// command a read completes with AdapterError::cannot_read, and the agent starts from the params'
/// defaults.
///
/// Both operations complete exactly once, never inline, on the adapter's executor, which must be
/// single-threaded (an io_context run by one thread, or a strand), once the program has exited and
/// been reaped. Destroying the adapter does not cancel runs in flight: they complete on their own.
///
/// timeout() is options.timeout plus one second, so that a program killed for running too long is
/// reported by the adapter itself ("did not finish within 10s and was killed") before a caller
/// gives up.
class CommandAdapter final : public AdapterBase {
public:
  /// Resolves the programs (argv[0] of command and current) to absolute paths: one without a '/'
  /// is looked up on PATH. Throws std::invalid_argument naming the adapter for an empty name or
  /// command, a program that is not an executable file, a placeholder that names no owned
  /// parameter (or sits in a program's name, or in `current`), an unbalanced brace, an owned
  /// parameter that no placeholder passes on, or a timeout that is not positive.
  CommandAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                 CommandAdapterOptions options);

  /// The options of an `adapters:` entry of kind command, from its keys as written: `command` (a
  /// list, required), `current` (a list) and `timeout` (a duration such as 10s or 500ms; default
  /// 10s). A program given as a relative path with a '/' (`./bin/set-pool`) is taken relative to
  /// `base_dir`, the directory of the configuration file, when it is not empty. Throws
  /// std::invalid_argument naming the adapter and the key for an unknown key, a missing command,
  /// a command given as a string instead of a list, or a bad timeout.
  [[nodiscard]] static CommandAdapterOptions from_options(const std::string& name,
                                                          const std::map<std::string, std::string>& options,
                                                          const std::map<std::string, std::vector<std::string>>& lists,
                                                          const std::filesystem::path& base_dir = {});

  /// The options in effect.
  [[nodiscard]] const CommandAdapterOptions& options() const noexcept;
  /// The program an apply runs, as an absolute path.
  [[nodiscard]] const std::string& program() const noexcept;
  /// The program a read runs, as an absolute path; empty without a `current` command.
  [[nodiscard]] const std::string& current_program() const noexcept;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  struct State;

  // Shared with the runs in flight, which may outlive the adapter.
  std::shared_ptr<const State> state_;
};

} // namespace trimtab
