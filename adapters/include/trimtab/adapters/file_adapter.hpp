#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {

/// How a file adapter writes the settings.
enum class FileFormat {
  json, ///< one JSON object: {"pool_size": 20, "policy": "lru"}
  yaml, ///< `key: value` lines, strings double-quoted: pool_size: 20
  env,  ///< KEY=value lines, values unquoted: pool_size=20
};

struct FileAdapterOptions {
  /// The file the settings are written to (required). The adapter owns all of it: each apply
  /// replaces it with the owned parameters and nothing else.
  std::filesystem::path path{};
  /// How the settings are written (from_options picks it from path's extension when not given).
  FileFormat format = FileFormat::env;
  /// The key a parameter has in the file, where it is not the parameter's name.
  std::map<std::string, std::string> names{};
  /// The signal sent after each write, such as SIGHUP; 0 for none.
  int signal = 0;
  /// Whom to send it to: a process id, or
  std::optional<pid_t> pid{};
  /// a file that holds one, read at each apply (`/run/nginx.pid`).
  std::filesystem::path pid_file{};
  /// What an apply or a read is budgeted. The file work is small and done synchronously on the
  /// executor, so nothing is cut short: callers use it to give up waiting.
  std::chrono::milliseconds timeout{5000};
};

/// An adapter for a service that reads its settings from a file and reloads it when told, nginx
/// style: an apply writes the owned parameters to options.path, then sends options.signal (if
/// any) to the process whose id is options.pid or in options.pid_file.
///
/// The file is replaced atomically: the settings go to a temporary file in the same directory,
/// which is synced and renamed over the old one, and then the directory is synced. The old file's
/// mode (and, where permitted, owner) is kept; a new file gets mode 0644. A symbolic link at
/// options.path is followed, and the file it points to replaced. Values are written as a service
/// reads them: ints in decimal, whole floats as integers ("8"), others in the shortest form that
/// reads back exactly ("0.25", "1.0e-07"), strings JSON-escaped (and double-quoted in YAML, where
/// JSON escapes are valid too). An env file holds values unquoted, so a string value with a
/// character outside letters, digits, non-ASCII text and `_ . , : / @ % + = -` is refused with
/// AdapterError::bad_settings before anything changes: there is no quoting that every reader of
/// env files (shells, systemd, docker) agrees on.
///
/// When the pid file cannot be read or does not hold a process id, the apply fails before the file
/// is touched. When sending the signal fails (ESRCH: the process is gone; EPERM), the previous
/// content is put back the same atomic way (or the new file removed, if there was none) and the
/// apply fails with a message naming the adapter, the pid file and the errno text: a failed apply
/// leaves the file as it was.
///
/// A read parses the file: a JSON object, the YAML subset written here (`key: value` lines with
/// plain, 'single-' or "double-quoted" scalars and comments; nested maps and lists are refused), or
/// KEY=value lines (comments, `export` and quoted values allowed). Keys other than the owned ones
/// are ignored. Whole numbers come back as std::int64_t, other numbers as double, strings as
/// strings. A file that does not exist, or is empty, completes with AdapterError::cannot_read, and
/// the agent starts from the params' defaults.
///
/// Both operations are posted to the adapter's executor, do their (small, bounded) file work
/// there synchronously, and complete right after, never inline.
class FileAdapter final : public AdapterBase {
public:
  /// Throws std::invalid_argument naming the adapter for an empty name or path, a signal without a
  /// pid or pid file (or one of those without a signal, or both), a pid that is not positive, a
  /// name mapping for a parameter the adapter does not own, two parameters with the same key, a
  /// key that cannot be one in the format (an env key must be a shell variable name), or a timeout
  /// that is not positive.
  FileAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
              FileAdapterOptions options);

  /// The options of an `adapters:` entry of kind file, from its keys as written: `path`
  /// (required), `format` (json, yaml or env; by default from path's extension: .json is json,
  /// .yaml and .yml are yaml, anything else env), `signal` (HUP, USR1, USR2, INT, QUIT, TERM, ALRM,
  /// WINCH, CONT, TTIN or TTOU, with or without SIG, in any case), `pid` (a number) or `pid_file`,
  /// `names` (a map from param to the key in the file) and `timeout` (a duration; default 5s).
  /// Relative paths are taken relative to `base_dir`, the configuration file's directory, when it
  /// is not empty. Throws std::invalid_argument naming the adapter and the key for an unknown key,
  /// a missing path or a bad value.
  [[nodiscard]] static FileAdapterOptions from_options(const std::string& name,
                                                       const std::map<std::string, std::string>& options,
                                                       const std::map<std::string, std::vector<std::string>>& lists = {},
                                                       const std::filesystem::path& base_dir = {});

  /// The options in effect.
  [[nodiscard]] const FileAdapterOptions& options() const noexcept;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  struct State;

  // Shared with the operations posted, which may run after the adapter is gone.
  std::shared_ptr<const State> state_;
};

} // namespace trimtab
