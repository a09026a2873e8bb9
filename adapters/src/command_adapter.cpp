#include <trimtab/adapters/command_adapter.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <trimtab/core/did_you_mean.hpp>

#include "child_process.hpp"
#include "posix_util.hpp"
#include "text_formats.hpp"

#include "adapter_operation.hpp"
#include "adapter_options.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;

constexpr std::array<std::string_view, 3> option_keys{"command", "current", "timeout"};
// What a caller waits beyond options.timeout for a killed program to be reaped and reported.
constexpr auto report_grace = std::chrono::seconds(1);
// How much of an apply's output is kept for its failure message, and of a read's to parse.
constexpr std::size_t apply_output = 64 * 1024;
constexpr std::size_t current_output = 1024 * 1024;
// How much of unreadable output a failure message quotes.
constexpr std::size_t quoted_chars = 200;

constexpr std::size_t no_param = static_cast<std::size_t>(-1);

// One piece of an argument template: literal text, or the value of params[param].
struct Piece {
  std::string text;
  std::size_t param = no_param;
};

using Template = std::vector<Piece>;

using adapter_detail::throw_invalid;

[[nodiscard]] std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : ", ") + word;
  return text;
}

// Splits an argument into literal text and placeholders; `where` names it in errors.
[[nodiscard]] Template parse_template(const std::string& name, const std::vector<std::string>& params,
                                      const std::string& arg, const std::string& where) {
  Template pieces;
  std::string literal;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] == '}') {
      if (i + 1 < arg.size() && arg[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      throw_invalid(name, where + ": a '}' without its '{' (write }} for a literal brace)");
    }
    if (arg[i] != '{') {
      literal += arg[i];
      continue;
    }
    if (i + 1 < arg.size() && arg[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const auto close = arg.find('}', i + 1);
    if (close == std::string::npos) throw_invalid(name, where + ": a '{' without its '}' (write {{ for a literal brace)");
    const auto param = arg.substr(i + 1, close - i - 1);
    const auto found = std::find(params.begin(), params.end(), param);
    if (found == params.end()) {
      std::vector<std::string_view> candidates(params.begin(), params.end());
      throw_invalid(name, where + ": unknown placeholder '{" + param + "}'" + did_you_mean(param, candidates) +
                              "; a placeholder names one of the adapter's params (" + join(params) +
                              "), and {{ and }} stand for literal braces");
    }
    if (!literal.empty()) pieces.push_back({std::move(literal)});
    literal.clear();
    pieces.push_back({{}, static_cast<std::size_t>(found - params.begin())});
    i = close;
  }
  if (!literal.empty() || pieces.empty()) pieces.push_back({std::move(literal)});
  return pieces;
}

// The text of a template without placeholders.
[[nodiscard]] std::optional<std::string> literal_of(const Template& pieces) {
  std::string text;
  for (const auto& piece : pieces) {
    if (piece.param != no_param) return std::nullopt;
    text += piece.text;
  }
  return text;
}

// Why `path` cannot be run, or nothing.
[[nodiscard]] std::optional<std::string> not_executable(const std::filesystem::path& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) return detail::errno_text(errno);
  if (S_ISDIR(info.st_mode)) return std::string("it is a directory");
  if (!S_ISREG(info.st_mode)) return std::string("it is not a regular file");
  if (::access(path.c_str(), X_OK) != 0) return "it cannot be executed: " + detail::errno_text(errno);
  return std::nullopt;
}

// The program `word` names, as an absolute path: itself when it holds a '/', else the first
// executable file of that name on PATH.
[[nodiscard]] std::string resolve_program(const std::string& name, const std::string& word, const std::string& option) {
  if (word.empty()) throw_invalid(name, "option '" + option + "': the program (its first item) is empty");
  if (word.find('/') != std::string::npos) {
    std::error_code ec;
    auto path = std::filesystem::absolute(word, ec).lexically_normal();
    if (ec) throw_invalid(name, "option '" + option + "': program '" + word + "': " + ec.message());
    if (auto problem = not_executable(path))
      throw_invalid(name, "option '" + option + "': program '" + path.string() + "': " + *problem);
    return path.string();
  }
  const char* env = std::getenv("PATH");
  const std::string_view path_list = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path_list.size()) {
    auto end = path_list.find(':', start);
    if (end == std::string_view::npos) end = path_list.size();
    const auto dir = path_list.substr(start, end - start);
    start = end + 1;
    // An empty entry would mean the working directory: too easy to run the wrong program.
    if (dir.empty() || dir.front() != '/') continue;
    const auto candidate = std::filesystem::path(dir) / word;
    if (!not_executable(candidate)) return candidate.lexically_normal().string();
  }
  throw_invalid(name, "option '" + option + "': program '" + word + "' is not found on PATH (" + std::string(path_list) +
                          "); give its absolute path");
}

// The value of a setting as one argument, or why it cannot be one.
[[nodiscard]] std::variant<std::string, std::string> argument_text(const std::string& param, const Value& value) {
  using Result = std::variant<std::string, std::string>;
  if (const auto* text = std::get_if<std::string>(&value)) {
    if (text->find('\0') != std::string::npos)
      return Result{std::in_place_index<1>, "the value of '" + param + "' holds a NUL byte, which no argument can carry"};
    return Result{std::in_place_index<0>, *text};
  }
  if (auto text = detail::value_text(value)) return Result{std::in_place_index<0>, std::move(*text)};
  return Result{std::in_place_index<1>, "the value of '" + param + "' is not a finite number"};
}

} // namespace

struct CommandAdapter::State : adapter_detail::AdapterIdentity {
  CommandAdapterOptions options;
  std::string program;
  std::vector<Template> command; // every argument, argv[0] included
  std::string current_program;

  [[nodiscard]] detail::ChildRequest request(std::string path, std::vector<std::string> argv, std::size_t output) const {
    return {std::move(path), std::move(argv), options.timeout, output};
  }

  // The argv of an apply of `settings` (already checked), or why there is none.
  [[nodiscard]] std::variant<std::vector<std::string>, AdapterResult> argv_for(const Settings& settings) const {
    std::vector<std::string> values(params.size());
    for (std::size_t i = 0; i < params.size(); ++i)
      for (const auto& [param, value] : settings)
        if (param == params[i]) {
          auto text = argument_text(param, value);
          if (text.index() == 1) return failure(AdapterError::bad_settings, std::get<1>(text));
          values[i] = std::move(std::get<0>(text));
        }
    std::vector<std::string> argv;
    argv.reserve(command.size());
    for (const auto& pieces : command) {
      std::string arg;
      for (const auto& piece : pieces) arg += piece.param == no_param ? piece.text : values[piece.param];
      argv.push_back(std::move(arg));
    }
    return argv;
  }

  // The owned parameters' values in a `current` program's output.
  [[nodiscard]] std::pair<AdapterResult, Settings> read_output(const detail::ChildOutcome& outcome) const {
    const auto where = current_program + ": ";
    const auto bad = [&](AdapterError error, const std::string& what) {
      return std::pair{failure(error, where + what), Settings{}};
    };
    if (outcome.output_truncated)
      return bad(AdapterError::bad_response, "it printed more than " + std::to_string(current_output) + " bytes");
    const auto& output = outcome.output;
    Settings current;
    current.reserve(params.size());
    const auto first = output.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && output[first] == '{') {
      boost::system::error_code ec;
      const auto json = boost::json::parse(output, ec);
      if (ec || !json.is_object())
        return bad(AdapterError::bad_response, "its output is not a JSON object (" +
                                                   (ec ? ec.message() : std::string("not an object")) +
                                                   "): " + detail::quote_head(output, quoted_chars));
      for (const auto& param : params) {
        const auto* value = json.get_object().if_contains(param);
        if (!value) return bad(AdapterError::missing_param, "its output has no '" + param + "'");
        auto setting = detail::json_setting(*value);
        if (const auto* kind = std::get_if<std::string>(&setting))
          return bad(AdapterError::bad_response, "'" + param + "' is " + *kind + ", not a number or a string");
        current.emplace_back(param, std::get<Value>(std::move(setting)));
      }
      return {AdapterResult{}, std::move(current)};
    }
    auto parsed = detail::parse_key_values(output);
    if (const auto* problem = std::get_if<std::string>(&parsed))
      return bad(AdapterError::bad_response, "its output is neither a JSON object nor KEY=value lines: " + *problem);
    auto& values = std::get<0>(parsed);
    for (const auto& param : params) {
      auto found = values.find(param);
      if (found == values.end()) return bad(AdapterError::missing_param, "its output has no '" + param + "'");
      current.emplace_back(param, std::move(found->second));
    }
    return {AdapterResult{}, std::move(current)};
  }
};

CommandAdapter::CommandAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                               CommandAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout + report_grace, "a command adapter") {
  if (options.command.empty()) throw_invalid(name, "no command (a list: the program, then its arguments)");
  if (options.timeout.count() <= 0) throw_invalid(name, "the timeout must be positive");

  auto state = std::make_shared<State>();
  std::vector<bool> passed(params.size(), false);
  for (std::size_t i = 0; i < options.command.size(); ++i) {
    auto pieces = parse_template(name, params, options.command[i], "command item " + std::to_string(i + 1) + " '" +
                                                                       options.command[i] + "'");
    for (const auto& piece : pieces)
      if (piece.param != no_param) passed[piece.param] = true;
    state->command.push_back(std::move(pieces));
  }
  const auto program = literal_of(state->command.front());
  if (!program) throw_invalid(name, "the program (the command's first item) cannot come from a placeholder");
  state->program = resolve_program(name, *program, "command");
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!passed[i])
      throw_invalid(name, "param '" + params[i] + "' appears in no placeholder of the command, which would never receive it; "
                          "pass it as {" + params[i] + "}");

  if (!options.current.empty()) {
    std::vector<std::string> argv;
    for (std::size_t i = 0; i < options.current.size(); ++i) {
      const auto where = "current item " + std::to_string(i + 1) + " '" + options.current[i] + "'";
      const auto literal = literal_of(parse_template(name, params, options.current[i], where));
      if (!literal) throw_invalid(name, where + ": the current command takes no placeholders (it reads the values)");
      argv.push_back(*literal);
    }
    state->current_program = resolve_program(name, argv.front(), "current");
    options.current = std::move(argv);
  }
  state->name = std::move(name);
  state->params = std::move(params);
  state->options = std::move(options);
  state_ = std::move(state);
}

CommandAdapterOptions CommandAdapter::from_options(const std::string& name,
                                                   const std::map<std::string, std::string>& options,
                                                   const std::map<std::string, std::vector<std::string>>& lists,
                                                   const std::filesystem::path& base_dir) {
  const auto unknown = [&](const std::string& key) {
    if (std::find(option_keys.begin(), option_keys.end(), key) == option_keys.end())
      throw_invalid(name, "unknown option '" + key + "'" + did_you_mean(key, option_keys) +
                              " (a command adapter takes command, current and timeout)");
  };
  for (const auto& [key, value] : options) {
    unknown(key);
    if (key == "command" || key == "current")
      throw_invalid(name, "option '" + key + "' must be a list, the program then its arguments, such as "
                          "[/usr/local/bin/set-pool, \"--size={pool_size}\"]: no shell splits a string");
  }
  for (const auto& [key, value] : lists) {
    unknown(key);
    if (key == "timeout") throw_invalid(name, "option 'timeout' must be a duration such as 10s, not a list");
  }

  // A relative path to a program counts from the configuration file's directory.
  const auto program_path = [&](std::string word) {
    if (word.find('/') == std::string::npos || word.front() == '/' || base_dir.empty()) return word;
    return (base_dir / word).lexically_normal().string();
  };

  CommandAdapterOptions result;
  const auto command = lists.find("command");
  if (command == lists.end() || command->second.empty())
    throw_invalid(name, "option 'command' is required: a list, the program then its arguments, such as "
                        "[/usr/local/bin/set-pool, \"--size={pool_size}\"]");
  result.command = command->second;
  result.command.front() = program_path(result.command.front());
  if (const auto current = lists.find("current"); current != lists.end()) {
    if (current->second.empty()) throw_invalid(name, "option 'current' is an empty list; leave it out to start from the defaults");
    result.current = current->second;
    result.current.front() = program_path(result.current.front());
  }
  if (auto problem = adapter_detail::read_timeout_option(options, result.timeout)) throw_invalid(name, *problem);
  return result;
}

const CommandAdapterOptions& CommandAdapter::options() const noexcept { return state_->options; }
const std::string& CommandAdapter::program() const noexcept { return state_->program; }
const std::string& CommandAdapter::current_program() const noexcept { return state_->current_program; }

void CommandAdapter::async_apply(Settings settings, apply_handler handler) {
  const auto complete_now = [&](AdapterResult result) {
    asio::post(get_executor(), [handler = std::move(handler), result = std::move(result)] { handler(result); });
  };
  if (auto checked = check_settings(state_->name, state_->params, settings); !checked) return complete_now(checked);
  auto argv = state_->argv_for(settings);
  if (auto* problem = std::get_if<AdapterResult>(&argv)) return complete_now(std::move(*problem));
  detail::async_run_child(get_executor(), state_->request(state_->program, std::get<0>(std::move(argv)), apply_output),
                          [state = state_, handler = std::move(handler)](detail::ChildOutcome outcome) {
                            if (!outcome) return handler(state->failure(outcome.error, state->program + " " + outcome.message));
                            handler(AdapterResult{});
                          });
}

void CommandAdapter::async_current(current_handler handler) {
  if (state_->current_program.empty()) {
    auto result = state_->failure(AdapterError::cannot_read,
                                  "no current command to read the running values with");
    asio::post(get_executor(), [handler = std::move(handler), result = std::move(result)] { handler(result, {}); });
    return;
  }
  detail::async_run_child(get_executor(), state_->request(state_->current_program, state_->options.current, current_output),
                          [state = state_, handler = std::move(handler)](detail::ChildOutcome outcome) {
                            if (!outcome)
                              return handler(state->failure(outcome.error, state->current_program + " " + outcome.message),
                                             {});
                            auto [result, current] = state->read_output(outcome);
                            handler(std::move(result), std::move(current));
                          });
}

} // namespace trimtab
