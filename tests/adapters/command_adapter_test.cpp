#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <trimtab/adapters/command_adapter.hpp>

#include "adapter_test_support.hpp"

using namespace trimtab;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

CommandAdapter make_adapter(asio::io_context& io, std::vector<std::string> params, std::vector<std::string> command,
                            std::vector<std::string> current_command = {}, std::chrono::milliseconds timeout = 10s) {
  CommandAdapterOptions options;
  options.command = std::move(command);
  options.current = std::move(current_command);
  options.timeout = timeout;
  return CommandAdapter(io.get_executor(), "pool", std::move(params), std::move(options));
}

// A one-param adapter whose command is a shell script (run by /bin/sh as a program, the way a user
// would write a wrapper): $0 is `arg0`, $1 the value of `size`.
CommandAdapter script_adapter(asio::io_context& io, const std::string& script, const std::string& arg0 = "sh",
                              std::chrono::milliseconds timeout = 10s) {
  return make_adapter(io, {"size"}, {"/bin/sh", "-c", script, arg0, "{size}"}, {}, timeout);
}

std::string construction_error(const std::vector<std::string>& params, const std::vector<std::string>& command,
                               const std::vector<std::string>& current_command = {}) {
  asio::io_context io;
  try {
    (void)make_adapter(io, params, command, current_command);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string options_error(const std::map<std::string, std::string>& options,
                          const std::map<std::string, std::vector<std::string>>& lists) {
  try {
    (void)CommandAdapter::from_options("pool", options, lists);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

using test::read_file;
using test::write_file;

std::vector<std::string> split_on_nul(const std::string& text) {
  std::vector<std::string> parts;
  std::string part;
  for (const char c : text) {
    if (c == '\0') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  return parts;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Whether the process is gone (or only a zombie left to its new parent), waiting up to 3 s.
bool process_gone(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(command_adapter)

BOOST_AUTO_TEST_CASE(arguments_reach_the_program_exactly_and_no_shell_reads_them) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  const auto out = dir / "args";
  // The script writes each argument after $0 followed by a NUL byte, so any byte can be checked.
  auto adapter = make_adapter(io, {"size", "policy", "ratio"},
                              {"/bin/sh", "-c", "printf '%s\\0' \"$@\" > \"$0\"", out, "--size={size}", "{policy}",
                               "r={ratio}", "{{literal}} {{{size}}}", "plain"});
  const std::string policy = "a b; $(touch " + (dir / "pwned") + ") `touch " + (dir / "pwned2") +
                             "` 'single' \"double\" \\ * ~ {size} \n newline | > " + (dir / "redirected");
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{20}}, {"policy", policy}, {"ratio", 0.25}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  const auto args = split_on_nul(read_file(out));
  const std::vector<std::string> expected{"--size=20", policy, "r=0.25", "{literal} {20}", "plain"};
  BOOST_TEST(args == expected, boost::test_tools::per_element());
  BOOST_TEST(!fs::exists(dir / "pwned"));
  BOOST_TEST(!fs::exists(dir / "pwned2"));
  BOOST_TEST(!fs::exists(dir / "redirected"));

  // Floats as a service reads them: whole ones as integers, others exactly.
  const auto again = test::apply_now(io, adapter, {{"size", std::int64_t{-3}}, {"policy", std::string()}, {"ratio", 8.0}});
  BOOST_TEST(static_cast<bool>(again), again.message);
  const std::vector<std::string> second{"--size=-3", "", "r=8", "{literal} {-3}", "plain"};
  const auto args2 = split_on_nul(read_file(out));
  BOOST_TEST(args2 == second, boost::test_tools::per_element());
  BOOST_TEST(test::apply_now(io, adapter, {{"size", std::int64_t{1}}, {"policy", std::string("x")}, {"ratio", 1e-7}}).message == "");
  BOOST_TEST(split_on_nul(read_file(out))[2] == "r=1.0e-07");
}

BOOST_AUTO_TEST_CASE(a_program_on_path_is_resolved_when_the_adapter_is_made) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"size"}, {"sh", "-c", "exit 0", "sh", "{size}"});
  BOOST_TEST(fs::path(adapter.program()).is_absolute());
  BOOST_TEST(fs::path(adapter.program()).filename() == "sh");
  BOOST_TEST(adapter.current_program().empty());
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(adapter.timeout() == 11s); // the run's 10 s, and a second to report a kill
}

BOOST_AUTO_TEST_CASE(a_non_zero_status_fails_with_the_end_of_stderr_on_one_line) {
  asio::io_context io;
  auto adapter = script_adapter(io, "echo 'usage: set-pool --size N' >&2; echo \"size must be <= 64, not $1\" >&2; exit 3");
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{99}}});
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::process_failed));
  BOOST_TEST(result.message ==
             "adapter 'pool': /bin/sh exited with status 3: usage: set-pool --size N size must be <= 64, not 99");

  // A long stderr: its last 200 bytes or so, still one line.
  auto chatty = script_adapter(io, "i=0; while [ $i -lt 100 ]; do echo \"line $i of noise\" >&2; i=$((i+1)); done; "
                                   "echo 'the real reason' >&2; exit 1");
  const auto long_result = test::apply_now(io, chatty, {{"size", std::int64_t{1}}});
  BOOST_TEST(long_result.error == make_error_code(AdapterError::process_failed));
  BOOST_TEST(contains(long_result.message, "exited with status 1: …"), long_result.message);
  BOOST_TEST(long_result.message.ends_with("the real reason"), long_result.message);
  BOOST_TEST(long_result.message.size() < 300u);
  BOOST_TEST(!contains(long_result.message, "\n"));

  // Nothing on stderr: stdout stands in; nothing at all: just the status.
  auto stdout_only = script_adapter(io, "echo 'complaint on stdout'; exit 2");
  BOOST_TEST(test::apply_now(io, stdout_only, {{"size", std::int64_t{1}}}).message ==
             "adapter 'pool': /bin/sh exited with status 2: complaint on stdout");
  auto silent = script_adapter(io, "exit 4");
  BOOST_TEST(test::apply_now(io, silent, {{"size", std::int64_t{1}}}).message == "adapter 'pool': /bin/sh exited with status 4");
}

BOOST_AUTO_TEST_CASE(a_death_by_signal_is_a_failure) {
  asio::io_context io;
  auto adapter = script_adapter(io, "echo dying >&2; kill -TERM $$");
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::process_failed));
  BOOST_TEST(result.message == "adapter 'pool': /bin/sh was killed by SIGTERM: dying");
}

BOOST_AUTO_TEST_CASE(a_program_that_runs_too_long_is_killed_with_its_children) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  const auto base = dir / "run";
  auto adapter = script_adapter(io, "echo $$ > \"$0.pid\"; sleep 30 & echo $! > \"$0.child\"; echo started >&2; wait",
                                base, 300ms);
  const auto started = std::chrono::steady_clock::now();
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(result.error == make_error_code(boost::system::errc::timed_out));
  BOOST_TEST(result.message == "adapter 'pool': /bin/sh did not finish within 300ms and was killed: started");
  BOOST_TEST(elapsed >= 300ms);
  BOOST_TEST(elapsed < 5s);

  const auto pid = static_cast<pid_t>(std::stol(read_file(base + ".pid")));
  const auto child = static_cast<pid_t>(std::stol(read_file(base + ".child")));
  // The program itself is reaped: no zombie of ours is left.
  BOOST_TEST(::kill(pid, 0) == -1);
  BOOST_TEST(errno == ESRCH);
  BOOST_TEST(::waitpid(pid, nullptr, WNOHANG) == -1);
  // Its own child, in its process group, is killed too.
  BOOST_TEST(process_gone(child));
}

BOOST_AUTO_TEST_CASE(the_child_reads_dev_null_and_inherits_no_other_descriptor) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  const auto base = dir / "fds";
  // A descriptor the host opened without O_CLOEXEC.
  const int leaky = ::open("/dev/null", O_RDONLY);
  BOOST_REQUIRE(leaky > 2);
  auto adapter = script_adapter(
      io, "readlink /proc/$$/fd/0 > \"$0.stdin\"; cat > \"$0.read\"; ls /proc/$$/fd > \"$0.list\"", base);
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  ::close(leaky);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(read_file(base + ".stdin") == "/dev/null\n");
  BOOST_TEST(read_file(base + ".read").empty());
  std::istringstream list(read_file(base + ".list"));
  std::vector<int> fds;
  for (std::string fd; list >> fd;) fds.push_back(std::stoi(fd));
  BOOST_TEST((std::find(fds.begin(), fds.end(), leaky) == fds.end()), "descriptor " << leaky << " leaked");
  for (const int fd : fds) BOOST_TEST((fd <= 2 || fd >= 10), "descriptor " << fd << " leaked"); // sh keeps its own at 10+
}

BOOST_AUTO_TEST_CASE(a_lot_of_output_does_not_block_the_program) {
  asio::io_context io;
  auto adapter = script_adapter(io, "head -c 3000000 /dev/zero; head -c 300000 /dev/zero >&2; exit 0");
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  BOOST_TEST(static_cast<bool>(result), result.message);
}

BOOST_AUTO_TEST_CASE(current_reads_a_json_object) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  write_file(dir / "state.json", R"({"size": 20, "ratio": 0.25, "policy": "lru", "other": [true]})");
  auto adapter = make_adapter(io, {"size", "ratio", "policy"},
                              {"/bin/sh", "-c", "exit 0", "sh", "{size}", "{ratio}", "{policy}"},
                              {"/bin/cat", dir / "state.json"});
  BOOST_TEST(adapter.current_program() == "/bin/cat");
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(result), result.message);
  const Settings expected{{"size", std::int64_t{20}}, {"ratio", 0.25}, {"policy", std::string("lru")}};
  BOOST_TEST((values == expected));

  write_file(dir / "state.json", R"({"size": 20, "ratio": true, "policy": "lru"})");
  const auto [wrong, none] = test::current_now(io, adapter);
  BOOST_TEST(wrong.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(wrong.message == "adapter 'pool': /bin/cat: 'ratio' is a boolean, not a number or a string");
  BOOST_TEST(none.empty());

  write_file(dir / "state.json", R"({"size": 20, "policy": "lru"})");
  const auto [missing, nothing] = test::current_now(io, adapter);
  BOOST_TEST(missing.error == make_error_code(AdapterError::missing_param));
  BOOST_TEST(missing.message == "adapter 'pool': /bin/cat: its output has no 'ratio'");

  write_file(dir / "state.json", R"({"size": 20,)");
  const auto [broken, empty] = test::current_now(io, adapter);
  BOOST_TEST(broken.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(contains(broken.message, "its output is not a JSON object"), broken.message);
}

BOOST_AUTO_TEST_CASE(current_reads_key_value_lines) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"size", "ratio", "policy"},
                              {"/bin/sh", "-c", "exit 0", "sh", "{size}", "{ratio}", "{policy}"},
                              {"/bin/sh", "-c", "printf '# the pool\\nsize=20\\nratio=1e-3\\npolicy=\"least used\"\\nx=1\\n'"});
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(result), result.message);
  const Settings expected{{"size", std::int64_t{20}}, {"ratio", 0.001}, {"policy", std::string("least used")}};
  BOOST_TEST((values == expected));

  auto garbled = make_adapter(io, {"size"}, {"/bin/sh", "-c", "exit 0", "sh", "{size}"},
                              {"/bin/sh", "-c", "echo size is twenty"});
  const auto [bad, none] = test::current_now(io, garbled);
  BOOST_TEST(bad.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(bad.message == "adapter 'pool': /bin/sh: its output is neither a JSON object nor KEY=value lines: line "
                            "1: expected KEY=value, got 'size is twenty'");
}

BOOST_AUTO_TEST_CASE(a_failing_current_command_is_reported) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"size"}, {"/bin/sh", "-c", "exit 0", "sh", "{size}"},
                              {"/bin/sh", "-c", "echo 'cannot reach the pool' >&2; exit 2"});
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(result.error == make_error_code(AdapterError::process_failed));
  BOOST_TEST(result.message == "adapter 'pool': /bin/sh exited with status 2: cannot reach the pool");
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(without_a_current_command_a_read_cannot_read) {
  asio::io_context io;
  auto adapter = script_adapter(io, "exit 0");
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(result.error == make_error_code(AdapterError::cannot_read));
  BOOST_TEST(result.message == "adapter 'pool': no current command to read the running values with");
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(bad_settings_run_nothing) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  auto adapter = script_adapter(io, "touch \"$0\"", dir / "ran");
  const auto foreign = test::apply_now(io, adapter, {{"size", std::int64_t{1}}, {"other", std::int64_t{2}}});
  BOOST_TEST(foreign.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(foreign.message == "adapter 'pool': parameter 'other' is not one of its own");
  const auto nul = test::apply_now(io, adapter, {{"size", std::string("a\0b", 3)}});
  BOOST_TEST(nul.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(nul.message == "adapter 'pool': the value of 'size' holds a NUL byte, which no argument can carry");
  const auto nan = test::apply_now(io, adapter, {{"size", std::nan("")}});
  BOOST_TEST(nan.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(!fs::exists(dir / "ran"));
}

BOOST_AUTO_TEST_CASE(a_program_that_cannot_start_is_a_failure) {
  asio::io_context io;
  test::TempDir dir("trimtab-command");
  const auto program = dir / "not-a-program";
  write_file(program, std::string("\x01\x02\x03garbage", 10));
  fs::permissions(program, fs::perms::owner_all);
  auto adapter = make_adapter(io, {"size"}, {program, "{size}"});
  const auto result = test::apply_now(io, adapter, {{"size", std::int64_t{1}}});
  BOOST_TEST(result.error == boost::system::error_code(ENOEXEC, boost::system::system_category()));
  BOOST_TEST(result.message == "adapter 'pool': " + program + " cannot be started: Exec format error");
}

BOOST_AUTO_TEST_CASE(construction_refuses_bad_templates_and_programs) {
  const std::vector<std::string> params{"size", "policy"};
  BOOST_TEST(construction_error(params, {"/bin/echo", "{size}", "{policy}"}) == "accepted");
  BOOST_TEST(construction_error(params, {"/bin/echo", "{size}", "{polcy}"}) ==
             "adapter 'pool': command item 3 '{polcy}': unknown placeholder '{polcy}' (did you mean 'policy'?); a "
             "placeholder names one of the adapter's params (size, policy), and {{ and }} stand for literal braces");
  BOOST_TEST(contains(construction_error(params, {"/bin/echo", "{size", "{policy}"}), "a '{' without its '}'"));
  BOOST_TEST(contains(construction_error(params, {"/bin/echo", "size}", "{size}{policy}"}), "a '}' without its '{'"));
  BOOST_TEST(construction_error(params, {"/bin/echo", "--size={size}"}) ==
             "adapter 'pool': param 'policy' appears in no placeholder of the command, which would never receive it; "
             "pass it as {policy}");
  BOOST_TEST(construction_error(params, {"no-such-program-for-trimtab", "{size}", "{policy}"}).starts_with(
      "adapter 'pool': option 'command': program 'no-such-program-for-trimtab' is not found on PATH ("));
  BOOST_TEST(construction_error(params, {"/nonexistent/set-pool", "{size}", "{policy}"}) ==
             "adapter 'pool': option 'command': program '/nonexistent/set-pool': No such file or directory");
  BOOST_TEST(construction_error(params, {"/tmp", "{size}", "{policy}"}) ==
             "adapter 'pool': option 'command': program '/tmp': it is a directory");
  BOOST_TEST(construction_error(params, {"/bin/{size}", "{policy}"}) ==
             "adapter 'pool': the program (the command's first item) cannot come from a placeholder");
  BOOST_TEST(construction_error(params, {"/bin/echo", "{size}", "{policy}"}, {"/bin/echo", "{size}"}) ==
             "adapter 'pool': current item 2 '{size}': the current command takes no placeholders (it reads the "
             "values)");
  BOOST_TEST(construction_error(params, {"/bin/echo", "{size}", "{policy}"}, {"/no/get-pool"}) ==
             "adapter 'pool': option 'current': program '/no/get-pool': No such file or directory");
  BOOST_TEST(construction_error(params, {}) == "adapter 'pool': no command (a list: the program, then its arguments)");

  asio::io_context io;
  CommandAdapterOptions zero;
  zero.command = {"/bin/echo", "{size}"};
  zero.timeout = 0ms;
  BOOST_CHECK_THROW(CommandAdapter(io.get_executor(), "pool", {"size"}, zero), std::invalid_argument);
  BOOST_CHECK_THROW(CommandAdapter(io.get_executor(), "", {"size"}, CommandAdapterOptions{{"/bin/echo", "{size}"}}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(from_options_reads_the_keys_as_written) {
  const auto options = CommandAdapter::from_options(
      "pool", {{"timeout", "250ms"}},
      {{"command", {"bin/set-pool", "--size={size}"}}, {"current", {"get-pool", "--json"}}}, "/etc/trimtab");
  BOOST_TEST(options.command == (std::vector<std::string>{"/etc/trimtab/bin/set-pool", "--size={size}"}),
             boost::test_tools::per_element());
  BOOST_TEST(options.current == (std::vector<std::string>{"get-pool", "--json"}), boost::test_tools::per_element());
  BOOST_TEST(options.timeout.count() == 250);
  const auto defaults = CommandAdapter::from_options("pool", {}, {{"command", {"/usr/bin/set-pool", "{size}"}}});
  BOOST_TEST(defaults.timeout.count() == 10000);
  BOOST_TEST(defaults.current.empty());

  const std::map<std::string, std::vector<std::string>> command{{"command", {"/bin/echo", "{size}"}}};
  BOOST_TEST(options_error({{"command", "/bin/echo {size}"}}, {}) ==
             "adapter 'pool': option 'command' must be a list, the program then its arguments, such as "
             "[/usr/local/bin/set-pool, \"--size={pool_size}\"]: no shell splits a string");
  BOOST_TEST(options_error({}, {}) ==
             "adapter 'pool': option 'command' is required: a list, the program then its arguments, such as "
             "[/usr/local/bin/set-pool, \"--size={pool_size}\"]");
  BOOST_TEST(options_error({{"timout", "5s"}}, command) ==
             "adapter 'pool': unknown option 'timout' (did you mean 'timeout'?) (a command adapter takes command, "
             "current and timeout)");
  BOOST_TEST(options_error({}, {{"comand", {"/bin/echo"}}}).starts_with(
      "adapter 'pool': unknown option 'comand' (did you mean 'command'?)"));
  BOOST_TEST(contains(options_error({{"timeout", "10"}}, command), "option 'timeout': "));
  BOOST_TEST(options_error({}, {{"command", {"/bin/echo", "{size}"}}, {"timeout", {"1s"}}}) ==
             "adapter 'pool': option 'timeout' must be a duration such as 10s, not a list");
  BOOST_TEST(options_error({}, {{"command", {"/bin/echo", "{size}"}}, {"current", {}}}) ==
             "adapter 'pool': option 'current' is an empty list; leave it out to start from the defaults");
}

BOOST_AUTO_TEST_CASE(an_adapter_destroyed_mid_run_leaves_no_process_behind) {
  test::TempDir dir("trimtab-command");
  const auto base = dir / "orphan";
  {
    asio::io_context io;
    auto adapter = script_adapter(io, "echo $$ > \"$0.pid\"; exec sleep 30", base);
    bool done = false;
    adapter.async_apply({{"size", std::int64_t{1}}}, [&](AdapterResult) { done = true; });
    // Let it start, then drop everything: the io_context takes the run with it.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!fs::exists(base + ".pid") && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    while (read_file(base + ".pid").empty() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    BOOST_TEST(!done);
  }
  const auto pid = static_cast<pid_t>(std::stol(read_file(base + ".pid")));
  BOOST_TEST(::kill(pid, 0) == -1); // killed and reaped
  BOOST_TEST(errno == ESRCH);
}

BOOST_AUTO_TEST_SUITE_END()
