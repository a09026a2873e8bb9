#include <trimtab/adapters/file_adapter.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <set>
#include <string_view>
#include <utility>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <trimtab/core/did_you_mean.hpp>

#include <trimtab/core/ascii.hpp>
#include "posix_util.hpp"
#include "text_formats.hpp"

#include "adapter_operation.hpp"
#include "adapter_options.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using detail::UniqueFd;

constexpr std::array<std::string_view, 7> option_keys{"path", "format", "signal", "pid", "pid_file", "names", "timeout"};
// A settings file bigger than this is not one the adapter wrote: it keeps no copy of it.
constexpr std::size_t max_file_size = 16 * 1024 * 1024;
constexpr mode_t new_file_mode = 0644;
// How many symbolic links are followed from options.path to the file.
constexpr int max_links = 40;
constexpr std::string_view header = "# Written by trimtab: edits are overwritten at the next apply.\n";

using adapter_detail::throw_invalid;

[[nodiscard]] boost::system::error_code system_error(int error) {
  return {error, boost::system::system_category()};
}

// What a key may start with, in env files and plain YAML alike.
[[nodiscard]] bool letter(char c) { return ascii::is_letter(c) || c == '_'; }

// A shell variable name, which is what every reader of env files takes as a key.
[[nodiscard]] bool env_key(std::string_view key) {
  return !key.empty() && letter(key.front()) &&
         std::all_of(key.begin(), key.end(), [](char c) { return letter(c) || ascii::is_digit(c); });
}

// A key YAML reads as the same string without quotes.
[[nodiscard]] bool plain_yaml_key(std::string_view key) {
  static const std::set<std::string, std::less<>> special{"y", "n", "yes", "no", "true", "false", "on", "off", "null"};
  return !key.empty() && letter(key.front()) &&
         std::all_of(key.begin(), key.end(), [](char c) { return letter(c) || ascii::is_digit(c) || c == '-'; }) &&
         !special.contains(ascii::lower(std::string(key)));
}

// The first character of an env value that would need quoting, or nothing.
[[nodiscard]] std::optional<char> env_problem(std::string_view value) {
  for (const char c : value) {
    const bool safe = letter(c) || ascii::is_digit(c) || static_cast<unsigned char>(c) >= 0x80 ||
                      std::string_view("_.,:/@%+=-").find(c) != std::string_view::npos;
    if (!safe) return c;
  }
  return std::nullopt;
}

[[nodiscard]] std::string describe_char(char c) {
  switch (c) {
  case '\n': return "a newline";
  case '\r': return "a carriage return";
  case '\t': return "a tab";
  case '\0': return "a NUL byte";
  case ' ': return "a space";
  default:
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a control character";
    return std::string("'") + c + "'";
  }
}

// A process id written in decimal, as in a pid file or the `pid` option, or nothing.
[[nodiscard]] std::optional<pid_t> process_id(const std::string& text) {
  if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), ascii::is_digit)) return std::nullopt;
  const long long number = std::stoll(text);
  if (number <= 0 || number > INT_MAX) return std::nullopt;
  return static_cast<pid_t>(number);
}

// A file's content and attributes, or that there is none.
struct FileCopy {
  bool exists = false;
  std::string text;
  mode_t mode = new_file_mode;
  uid_t owner = 0;
  gid_t group = 0;
};

// Reads the whole file, or returns the errno of the failure (ENOENT when it does not exist, EFBIG
// beyond max_file_size).
[[nodiscard]] std::variant<FileCopy, int> read_whole(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno;
  struct stat info{};
  if (::fstat(fd.get(), &info) != 0) return errno;
  if (S_ISDIR(info.st_mode)) return EISDIR;
  FileCopy copy{true, {}, static_cast<mode_t>(info.st_mode & 07777), info.st_uid, info.st_gid};
  char buffer[8192];
  for (;;) {
    const auto got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) break;
    copy.text.append(buffer, static_cast<std::size_t>(got));
    if (copy.text.size() > max_file_size) return EFBIG;
  }
  return copy;
}

[[nodiscard]] fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// Makes a rename or an unlink in `directory` durable; returns why not, or nothing.
[[nodiscard]] std::optional<std::string> sync_directory(const fs::path& directory) {
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return "cannot sync directory " + directory.string() + ": " + detail::errno_text(errno);
  return std::nullopt;
}

// What became of an attempt to replace a file.
struct Replaced {
  bool renamed = false;             // whether `path` now holds the new content
  std::optional<std::string> error; // why it failed, or nothing
  int code = 0;                     // its errno
};

// Writes `text` to a temporary file next to `path`, syncs it and renames it over `path`, then syncs
// the directory. The temporary file never stays behind.
[[nodiscard]] Replaced replace_file(const fs::path& path, std::string_view text, const FileCopy& attributes) {
  const auto directory = directory_of(path);
  auto temporary = (directory / ("." + path.filename().string() + ".trimtab-XXXXXX")).string();
  UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));
  if (!fd) {
    const int code = errno;
    return {false, "cannot create a temporary file in " + directory.string() + ": " + detail::errno_text(code), code};
  }
  const auto failed = [&](const std::string& what) {
    const int code = errno;
    fd.reset();
    ::unlink(temporary.c_str());
    return Replaced{false, what + " " + temporary + ": " + detail::errno_text(code), code};
  };
  for (std::size_t done = 0; done < text.size();) {
    const auto wrote = ::write(fd.get(), text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) return failed("cannot write");
    done += static_cast<std::size_t>(wrote);
  }
  if (::fchmod(fd.get(), attributes.mode) != 0) return failed("cannot set the mode of");
  // Keep the owner of a file trimtab replaces as root; elsewhere this fails and the writer owns it.
  if (attributes.exists && (attributes.owner != ::geteuid() || attributes.group != ::getegid()))
    (void)::fchown(fd.get(), attributes.owner, attributes.group);
  if (::fsync(fd.get()) != 0) return failed("cannot sync");
  if (::close(fd.release()) != 0) {
    const int code = errno;
    ::unlink(temporary.c_str());
    return {false, "cannot close " + temporary + ": " + detail::errno_text(code), code};
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int code = errno;
    ::unlink(temporary.c_str());
    return {false, "cannot rename " + temporary + " to " + path.string() + ": " + detail::errno_text(code), code};
  }
  if (auto problem = sync_directory(directory)) return {true, std::move(problem), errno};
  return {true, std::nullopt, 0};
}

} // namespace

struct FileAdapter::State : adapter_detail::AdapterIdentity {
  FileAdapterOptions options;
  std::vector<std::string> keys; // the key of each of params in the file

  // The file the settings go to: options.path, or where its symbolic links lead.
  [[nodiscard]] fs::path target() const {
    auto path = options.path;
    std::error_code ec;
    for (int hops = 0; hops < max_links && fs::is_symlink(path, ec); ++hops) {
      auto link = fs::read_symlink(path, ec);
      if (ec) break;
      path = link.is_absolute() ? link : path.parent_path() / link;
    }
    return path;
  }

  // The text of a value in the file, or why it cannot be written.
  [[nodiscard]] std::variant<std::string, AdapterResult> value_in_file(const std::string& param, const Value& value) const {
    using Result = std::variant<std::string, AdapterResult>;
    if (const auto* text = std::get_if<std::string>(&value)) {
      if (options.format == FileFormat::env) {
        if (const auto c = env_problem(*text))
          return failure(AdapterError::bad_settings,
                         "the value of '" + param + "' cannot go in an env file: it holds " + describe_char(*c) +
                             " (an unquoted env value holds letters, digits, non-ASCII text and _ . , : / @ % + = -); "
                             "use format json or yaml for such values");
        if (!detail::valid_utf8(*text))
          return failure(AdapterError::bad_settings, "the value of '" + param + "' is not valid UTF-8");
        return Result{std::in_place_index<0>, *text};
      }
      if (auto quoted = detail::quoted_string(*text)) return Result{std::in_place_index<0>, std::move(*quoted)};
      return failure(AdapterError::bad_settings, "the value of '" + param + "' is not valid UTF-8");
    }
    if (auto text = detail::value_text(value)) return Result{std::in_place_index<0>, std::move(*text)};
    return failure(AdapterError::bad_settings, "the value of '" + param + "' is not a finite number");
  }

  // The key as the format writes it.
  [[nodiscard]] std::string key_in_file(const std::string& key) const {
    if (options.format == FileFormat::env || (options.format == FileFormat::yaml && plain_yaml_key(key))) return key;
    return *detail::quoted_string(key); // checked to be UTF-8 when the adapter was made
  }

  // The file's new content for `settings` (already checked), or why there is none.
  [[nodiscard]] std::variant<std::string, AdapterResult> render(const Settings& settings) const {
    std::string text = options.format == FileFormat::json ? "{\n" : std::string(header);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto setting = std::find_if(settings.begin(), settings.end(), [&](const auto& s) { return s.first == params[i]; });
      auto value = value_in_file(params[i], setting->second);
      if (auto* problem = std::get_if<AdapterResult>(&value)) return std::move(*problem);
      const auto& value_text = std::get<std::string>(value);
      switch (options.format) {
      case FileFormat::json:
        text += "  " + key_in_file(keys[i]) + ": " + value_text + (i + 1 < params.size() ? ",\n" : "\n");
        break;
      case FileFormat::yaml: text += key_in_file(keys[i]) + ": " + value_text + "\n"; break;
      case FileFormat::env: text += keys[i] + "=" + value_text + "\n"; break;
      }
    }
    if (options.format == FileFormat::json) text += "}\n";
    return text;
  }

  // Where the pid file is, for messages: " (from pid file /run/x.pid)", or nothing.
  [[nodiscard]] std::string pid_source() const {
    return options.pid ? std::string() : " (from pid file " + options.pid_file.string() + ")";
  }

  // The process to signal, or why it is unknown.
  [[nodiscard]] std::variant<pid_t, AdapterResult> signal_target(const fs::path& file) const {
    if (options.pid) return *options.pid;
    const auto unchanged = "; " + file.string() + " is unchanged";
    auto read = read_whole(options.pid_file);
    if (const int* error = std::get_if<int>(&read))
      return failure(system_error(*error), "pid file " + options.pid_file.string() + ": cannot read it: " +
                                               detail::errno_text(*error) + unchanged);
    const auto& text = std::get<FileCopy>(read).text;
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    const auto number = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
    const auto pid = process_id(number);
    if (!pid)
      return failure(AdapterError::bad_response, "pid file " + options.pid_file.string() + " holds '" +
                                                     detail::quote_head(text, 40) + "', not a process id" + unchanged);
    return *pid;
  }

  // Puts `previous` back at `file` after a failed signal; returns what the file holds now.
  [[nodiscard]] std::string put_back(const fs::path& file, const FileCopy& previous) const {
    if (previous.exists) {
      const auto replaced = replace_file(file, previous.text, previous);
      if (!replaced.error || replaced.renamed) return "the previous content of " + file.string() + " is back";
      return "putting back the previous content failed too (" + *replaced.error + "), so " + file.string() +
             " holds the new settings";
    }
    if (::unlink(file.c_str()) != 0 && errno != ENOENT)
      return "removing the new file failed too (" + detail::errno_text(errno) + "), so " + file.string() +
             " holds the new settings";
    (void)sync_directory(directory_of(file));
    return file.string() + " is removed again";
  }

  [[nodiscard]] AdapterResult apply(const Settings& settings) const {
    if (auto checked = check_settings(name, params, settings); !checked) return checked;
    auto content = render(settings);
    if (auto* problem = std::get_if<AdapterResult>(&content)) return std::move(*problem);

    const auto file = target();
    pid_t pid = 0;
    if (options.signal != 0) {
      auto found = signal_target(file);
      if (auto* problem = std::get_if<AdapterResult>(&found)) return std::move(*problem);
      pid = std::get<pid_t>(found);
    }
    auto read = read_whole(file);
    if (const int* error = std::get_if<int>(&read); error && *error != ENOENT)
      return failure(system_error(*error), "cannot read " + file.string() + " to keep a copy: " +
                                               detail::errno_text(*error) + "; it is unchanged");
    const auto previous = std::holds_alternative<FileCopy>(read) ? std::get<FileCopy>(std::move(read)) : FileCopy{};

    const auto replaced = replace_file(file, std::get<std::string>(content), previous);
    if (replaced.error) {
      auto message = *replaced.error;
      if (replaced.renamed) message += "; " + put_back(file, previous);
      return failure(system_error(replaced.code), message);
    }
    if (options.signal != 0 && ::kill(pid, options.signal) != 0) {
      const int error = errno;
      return failure(system_error(error), "cannot send " + detail::signal_name(options.signal) + " to process " +
                                              std::to_string(pid) + pid_source() + ": " + detail::errno_text(error) +
                                              "; " + put_back(file, previous));
    }
    return {};
  }

  [[nodiscard]] std::pair<AdapterResult, Settings> current() const {
    const auto path = options.path.string();
    const auto bad = [&](AdapterError error, const std::string& what) {
      return std::pair{failure(error, path + ": " + what), Settings{}};
    };
    auto read = read_whole(options.path);
    if (const int* error = std::get_if<int>(&read)) {
      if (*error == ENOENT)
        return bad(AdapterError::cannot_read, "no such file yet, so the running values are not known");
      return std::pair{failure(system_error(*error), "cannot read " + path + ": " + detail::errno_text(*error)), Settings{}};
    }
    const auto& text = std::get<FileCopy>(read).text;
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      return bad(AdapterError::cannot_read, "the file is empty, so the running values are not known");

    const auto missing = [&](std::size_t i) {
      return bad(AdapterError::missing_param,
                 "no '" + keys[i] + "'" + (keys[i] == params[i] ? "" : " (param '" + params[i] + "')"));
    };
    Settings current;
    current.reserve(params.size());
    if (options.format == FileFormat::json) {
      boost::system::error_code ec;
      const auto json = boost::json::parse(text, ec);
      if (ec) return bad(AdapterError::bad_response, "not JSON (" + ec.message() + ")");
      if (!json.is_object()) return bad(AdapterError::bad_response, "not a JSON object");
      for (std::size_t i = 0; i < params.size(); ++i) {
        const auto* value = json.get_object().if_contains(keys[i]);
        if (!value) return missing(i);
        auto setting = detail::json_setting(*value);
        if (const auto* kind = std::get_if<std::string>(&setting))
          return bad(AdapterError::bad_response, "'" + keys[i] + "' is " + *kind + ", not a number or a string");
        current.emplace_back(params[i], std::get<Value>(std::move(setting)));
      }
      return {AdapterResult{}, std::move(current)};
    }
    auto parsed = options.format == FileFormat::yaml ? detail::parse_yaml_subset(text) : detail::parse_key_values(text);
    if (const auto* problem = std::get_if<std::string>(&parsed)) return bad(AdapterError::bad_response, *problem);
    auto& values = std::get<0>(parsed);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto found = values.find(keys[i]);
      if (found == values.end()) return missing(i);
      current.emplace_back(params[i], std::move(found->second));
    }
    return {AdapterResult{}, std::move(current)};
  }
};

FileAdapter::FileAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                         FileAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout, "a file adapter") {
  if (options.path.empty()) throw_invalid(name, "no path");
  std::error_code ec;
  if (fs::is_directory(options.path, ec)) throw_invalid(name, "path " + options.path.string() + " is a directory");
  if (options.timeout.count() <= 0) throw_invalid(name, "the timeout must be positive");
  if (options.signal != 0 && !options.pid && options.pid_file.empty())
    throw_invalid(name, "a signal needs the process to send it to: give 'pid' or 'pid_file'");
  if (options.pid && !options.pid_file.empty()) throw_invalid(name, "give 'pid' or 'pid_file', not both");
  if (options.signal == 0 && (options.pid || !options.pid_file.empty()))
    throw_invalid(name, "'pid' and 'pid_file' say where a signal goes: give 'signal' too, such as HUP");
  if (options.pid && *options.pid <= 0) throw_invalid(name, "pid " + std::to_string(*options.pid) + " is not a process id");

  for (const auto& [param, key] : options.names) {
    if (std::find(params.begin(), params.end(), param) == params.end())
      throw_invalid(name, "names: '" + param + "' is not one of the adapter's params");
    if (key.empty()) throw_invalid(name, "names: the key for '" + param + "' is empty");
  }
  std::vector<std::string> keys;
  for (const auto& param : params) {
    const auto mapped = options.names.find(param);
    const auto& key = mapped == options.names.end() ? param : mapped->second;
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      throw_invalid(name, "two params have the key '" + key + "' in the file");
    if (options.format == FileFormat::env && !env_key(key))
      throw_invalid(name, "'" + key + "' cannot be a key in an env file (letters, digits and _, not starting with a digit); "
                          "give param '" + param + "' another with names: {" + param + ": SOME_KEY}");
    if (!detail::valid_utf8(key)) throw_invalid(name, "the key '" + key + "' is not valid UTF-8");
    keys.push_back(key);
  }
  state_ = std::make_shared<const State>(State{{std::move(name), std::move(params)}, std::move(options), std::move(keys)});
}

FileAdapterOptions FileAdapter::from_options(const std::string& name, const std::map<std::string, std::string>& options,
                                             const std::map<std::string, std::vector<std::string>>& lists,
                                             const fs::path& base_dir) {
  const auto check_key = [&](const std::string& key) {
    const auto base = key.substr(0, key.find('.'));
    if (std::find(option_keys.begin(), option_keys.end(), base) == option_keys.end())
      throw_invalid(name, "unknown option '" + key + "'" + did_you_mean(base, option_keys) +
                              " (a file adapter takes path, format, signal, pid, pid_file, names and timeout)");
    if (base == "names" && key == "names")
      throw_invalid(name, "option 'names' must be a map from param to the key in the file, such as {pool_size: POOL_SIZE}");
    if (base != "names" && base != key) throw_invalid(name, "option '" + base + "' takes one value, not a map");
  };
  for (const auto& [key, value] : lists) {
    check_key(key);
    throw_invalid(name, "option '" + key + "' takes one value, not a list");
  }
  for (const auto& [key, value] : options) check_key(key);

  const auto relative = [&](const std::string& text) {
    fs::path path(text);
    return path.is_relative() && !base_dir.empty() ? (base_dir / path).lexically_normal() : path;
  };

  FileAdapterOptions result;
  const auto path = options.find("path");
  if (path == options.end() || path->second.empty()) throw_invalid(name, "option 'path' is required: the file the settings go to");
  result.path = relative(path->second);

  if (const auto format = options.find("format"); format != options.end()) {
    const auto text = ascii::lower(format->second);
    if (text == "json") result.format = FileFormat::json;
    else if (text == "yaml") result.format = FileFormat::yaml;
    else if (text == "env") result.format = FileFormat::env;
    else throw_invalid(name, "option 'format': '" + format->second + "' is not json, yaml or env");
  } else {
    const auto extension = ascii::lower(result.path.extension().string());
    result.format = extension == ".json"                       ? FileFormat::json
                    : extension == ".yaml" || extension == ".yml" ? FileFormat::yaml
                                                                  : FileFormat::env;
  }

  if (const auto signal = options.find("signal"); signal != options.end()) {
    const auto number = detail::reload_signal(signal->second);
    if (!number) {
      std::string word = signal->second;
      if (word.size() > 3 && ascii::lower(word.substr(0, 3)) == "sig") word = word.substr(3);
      std::string names;
      for (const auto allowed : detail::reload_signal_names) names += (names.empty() ? "" : ", ") + std::string(allowed);
      throw_invalid(name, "option 'signal': '" + signal->second + "' is not a signal to reload with" +
                              did_you_mean(word, detail::reload_signal_names) + " (" + names + ")");
    }
    result.signal = *number;
  }
  if (const auto pid = options.find("pid"); pid != options.end()) {
    const auto& text = pid->second;
    result.pid = process_id(text);
    if (!result.pid) throw_invalid(name, "option 'pid': '" + text + "' is not a process id (a number above 0)");
  }
  if (const auto pid_file = options.find("pid_file"); pid_file != options.end()) {
    if (pid_file->second.empty()) throw_invalid(name, "option 'pid_file' is empty");
    result.pid_file = relative(pid_file->second);
  }
  for (const auto& [key, value] : options)
    if (key.starts_with("names.")) result.names[key.substr(6)] = value;
  if (auto problem = adapter_detail::read_timeout_option(options, result.timeout)) throw_invalid(name, *problem);
  return result;
}

const FileAdapterOptions& FileAdapter::options() const noexcept { return state_->options; }

void FileAdapter::async_apply(Settings settings, apply_handler handler) {
  asio::post(get_executor(), [state = state_, settings = std::move(settings), handler = std::move(handler)] {
    handler(state->apply(settings));
  });
}

void FileAdapter::async_current(current_handler handler) {
  asio::post(get_executor(), [state = state_, handler = std::move(handler)] {
    auto [result, current] = state->current();
    handler(std::move(result), std::move(current));
  });
}

} // namespace trimtab
