#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <yaml-cpp/yaml.h>

#include <trimtab/adapters/file_adapter.hpp>

#include "adapter_test_support.hpp"

using namespace trimtab;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

extern char** environ;

namespace {

FileAdapter make_adapter(asio::io_context& io, std::vector<std::string> params, FileAdapterOptions options) {
  return FileAdapter(io.get_executor(), "web", std::move(params), std::move(options));
}

FileAdapterOptions file_options(const std::string& path, FileFormat format) {
  FileAdapterOptions options;
  options.path = path;
  options.format = format;
  return options;
}

std::string options_error(const std::map<std::string, std::string>& options,
                          const std::map<std::string, std::vector<std::string>>& lists = {}) {
  try {
    (void)FileAdapter::from_options("web", options, lists);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string construction_error(const std::vector<std::string>& params, const FileAdapterOptions& options) {
  asio::io_context io;
  try {
    (void)make_adapter(io, params, options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

using test::read_file;
using test::write_file;

unsigned mode_of(const std::string& path) {
  struct stat info{};
  BOOST_REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What /bin/sh makes of the output of a command.
std::string shell_output(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  char buffer[256];
  while (const auto got = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
  ::pclose(pipe);
  return output;
}

// A process that stands for a service: it reloads on SIGHUP or SIGUSR1 by copying `file` to
// `seen`, and writes its pid to `pid_file` once it is ready. Killed, with its group, at the end.
class ReloadingService {
public:
  ReloadingService(const std::string& file, const std::string& seen, const std::string& pid_file) {
    const std::string script = "reload() { cat \"$1\" > \"$2.tmp\"; mv \"$2.tmp\" \"$2\"; }; "
                               "trap 'reload \"$1\" \"$2\"' HUP USR1; "
                               "echo $$ > \"$3.tmp\"; mv \"$3.tmp\" \"$3\"; "
                               "while :; do sleep 0.02; done";
    std::vector<std::string> args{"/bin/sh", "-c", script, "sh", file, seen, pid_file};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    BOOST_REQUIRE(::posix_spawn(&pid_, "/bin/sh", nullptr, &attributes, argv.data(), environ) == 0);
    posix_spawnattr_destroy(&attributes);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!fs::exists(pid_file) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    BOOST_REQUIRE(fs::exists(pid_file));
  }
  ReloadingService(const ReloadingService&) = delete;
  ReloadingService& operator=(const ReloadingService&) = delete;
  ~ReloadingService() {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  [[nodiscard]] pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
};

// Waits up to 5 s for `path` to hold `text`.
bool eventually_holds(const std::string& path, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path) && read_file(path) == text) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// A process id that no process has: a child that exited and was reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

const std::vector<std::string> params{"pool_size", "ratio", "policy", "small", "big", "whole"};
const std::string tricky = "lru \"quoted\" \\ back\tslash\nnew line é \x7f \xc2\x85 yes";
const Settings settings{{"pool_size", std::int64_t{20}}, {"ratio", 0.1},  {"policy", tricky},
                        {"small", 1e-7},                 {"big", 1e20},   {"whole", 8.0}};
// As the file gives them back: a whole float as an integer.
const Settings read_back{{"pool_size", std::int64_t{20}}, {"ratio", 0.1},  {"policy", tricky},
                         {"small", 1e-7},                 {"big", 1e20},   {"whole", std::int64_t{8}}};

} // namespace

BOOST_AUTO_TEST_SUITE(file_adapter)

BOOST_AUTO_TEST_CASE(json_is_written_as_one_object_and_read_back) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  auto adapter = make_adapter(io, params, file_options(dir / "tuning.json", FileFormat::json));
  const auto result = test::apply_now(io, adapter, settings);
  BOOST_TEST(static_cast<bool>(result), result.message);
  const auto text = read_file(dir / "tuning.json");
  BOOST_TEST(text == "{\n"
                     "  \"pool_size\": 20,\n"
                     "  \"ratio\": 0.1,\n"
                     "  \"policy\": \"lru \\\"quoted\\\" \\\\ back\\tslash\\nnew line é \\u007f \\u0085 yes\",\n"
                     "  \"small\": 1.0e-07,\n"
                     "  \"big\": 1.0e+20,\n"
                     "  \"whole\": 8\n"
                     "}\n");
  const auto json = boost::json::parse(text).as_object();
  BOOST_TEST(json.at("policy").as_string() == tricky);
  BOOST_TEST(json.at("small").as_double() == 1e-7);

  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_TEST((values == read_back));
}

BOOST_AUTO_TEST_CASE(yaml_is_written_as_key_value_lines_any_yaml_reader_takes) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  auto options = file_options(dir / "tuning.yaml", FileFormat::yaml);
  options.names = {{"policy", "cache policy"}, {"whole", "yes"}};
  auto adapter = make_adapter(io, params, options);
  const auto result = test::apply_now(io, adapter, settings);
  BOOST_TEST(static_cast<bool>(result), result.message);
  const auto text = read_file(dir / "tuning.yaml");
  BOOST_TEST(text == "# Written by trimtab: edits are overwritten at the next apply.\n"
                     "pool_size: 20\n"
                     "ratio: 0.1\n"
                     "\"cache policy\": \"lru \\\"quoted\\\" \\\\ back\\tslash\\nnew line é \\u007f \\u0085 yes\"\n"
                     "small: 1.0e-07\n"
                     "big: 1.0e+20\n"
                     "\"yes\": 8\n");
  // A real YAML parser agrees.
  const auto yaml = YAML::Load(text);
  BOOST_TEST(yaml["pool_size"].as<std::int64_t>() == 20);
  BOOST_TEST(yaml["ratio"].as<double>() == 0.1);
  BOOST_TEST(yaml["cache policy"].as<std::string>() == tricky);
  BOOST_TEST(yaml["small"].as<double>() == 1e-7);
  BOOST_TEST(yaml["big"].as<double>() == 1e20);
  BOOST_TEST(yaml["yes"].as<int>() == 8);

  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_TEST((values == read_back));

  // Strings YAML would otherwise read as something else stay strings.
  for (const std::string label : {"yes", "null", "~", "#x", "a: b", "- item", "", "0x10", "1e3", "[a]", "'q'"}) {
    const auto again = test::apply_now(io, adapter, {{"pool_size", std::int64_t{1}}, {"ratio", 0.5}, {"policy", label},
                                           {"small", 1.0}, {"big", 2.0}, {"whole", 3.0}});
    BOOST_TEST(static_cast<bool>(again), again.message);
    BOOST_TEST(YAML::Load(read_file(dir / "tuning.yaml"))["cache policy"].as<std::string>() == label);
    const auto [ok, back] = test::current_now(io, adapter);
    BOOST_TEST(static_cast<bool>(ok), ok.message);
    BOOST_TEST((back.at(2).second == Value{label}), "label " << label);
  }
}

BOOST_AUTO_TEST_CASE(env_is_written_as_lines_a_shell_reads) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  auto options = file_options(path, FileFormat::env);
  options.names = {{"pool_size", "POOL_SIZE"}};
  auto adapter = make_adapter(io, {"pool_size", "ratio", "policy"}, options);
  const Settings values{{"pool_size", std::int64_t{20}}, {"ratio", 0.25}, {"policy", std::string("fair-share/v2")}};
  const auto result = test::apply_now(io, adapter, values);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(read_file(path) == "# Written by trimtab: edits are overwritten at the next apply.\n"
                                "POOL_SIZE=20\n"
                                "ratio=0.25\n"
                                "policy=fair-share/v2\n");
  BOOST_TEST(shell_output(". '" + path + "'; printf '%s|%s|%s' \"$POOL_SIZE\" \"$ratio\" \"$policy\"") ==
             "20|0.25|fair-share/v2");
  const auto [read, back] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_TEST((back == values));
}

BOOST_AUTO_TEST_CASE(env_refuses_values_it_cannot_write_unquoted_and_changes_nothing) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  write_file(path, "policy=lru\n");
  auto adapter = make_adapter(io, {"policy"}, file_options(path, FileFormat::env));
  for (const auto& [value, what] : std::vector<std::pair<std::string, std::string>>{
           {"a\nINJECTED=1", "a newline"}, {"a b", "a space"}, {"$(id)", "'$'"}, {"x\"y", "'\"'"},
           {std::string("a\0b", 3), "a NUL byte"}, {"#comment", "'#'"}, {"~/x", "'~'"}}) {
    const auto result = test::apply_now(io, adapter, {{"policy", value}});
    BOOST_TEST(result.error == make_error_code(AdapterError::bad_settings));
    BOOST_TEST(result.message == "adapter 'web': the value of 'policy' cannot go in an env file: it holds " + what +
                                     " (an unquoted env value holds letters, digits, non-ASCII text and _ . , : / @ % "
                                     "+ = -); use format json or yaml for such values");
  }
  BOOST_TEST(read_file(path) == "policy=lru\n");
  BOOST_TEST((dir.entries() == std::vector<std::string>{"tuning.env"}));
  BOOST_TEST(static_cast<bool>(test::apply_now(io, adapter, {{"policy", std::string("naïve")}})));
}

BOOST_AUTO_TEST_CASE(the_file_is_replaced_atomically_keeping_its_mode) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  write_file(path, "pool_size=1\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  auto adapter = make_adapter(io, {"pool_size"}, file_options(path, FileFormat::env));
  BOOST_TEST(static_cast<bool>(test::apply_now(io, adapter, {{"pool_size", std::int64_t{2}}})));
  BOOST_TEST(mode_of(path) == 0640u);
  BOOST_TEST((dir.entries() == std::vector<std::string>{"tuning.env"})); // no temporary file left behind

  // A new file gets 0644.
  auto fresh = make_adapter(io, {"pool_size"}, file_options(dir / "new.env", FileFormat::env));
  BOOST_TEST(static_cast<bool>(test::apply_now(io, fresh, {{"pool_size", std::int64_t{2}}})));
  BOOST_TEST(mode_of(dir / "new.env") == 0644u);

  // A symbolic link is followed: the file it points to is replaced, the link stays.
  fs::create_symlink("tuning.env", dir / "link.env");
  auto linked = make_adapter(io, {"pool_size"}, file_options(dir / "link.env", FileFormat::env));
  BOOST_TEST(static_cast<bool>(test::apply_now(io, linked, {{"pool_size", std::int64_t{3}}})));
  BOOST_TEST(fs::is_symlink(dir / "link.env"));
  BOOST_TEST(contains(read_file(path), "pool_size=3\n"));
  BOOST_TEST(mode_of(path) == 0640u);
  BOOST_TEST((dir.entries() == std::vector<std::string>{"link.env", "new.env", "tuning.env"}));

  // A directory that does not exist fails with the system's error.
  auto nowhere = make_adapter(io, {"pool_size"}, file_options(dir / "missing/tuning.env", FileFormat::env));
  const auto failed = test::apply_now(io, nowhere, {{"pool_size", std::int64_t{2}}});
  BOOST_TEST(failed.error == boost::system::error_code(ENOENT, boost::system::system_category()));
  BOOST_TEST(contains(failed.message, "cannot create a temporary file in " + (dir / "missing")), failed.message);
}

BOOST_AUTO_TEST_CASE(the_signal_reaches_the_service_which_reloads_the_new_content) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.yaml";
  ReloadingService service(path, dir / "seen", dir / "service.pid");

  auto options = file_options(path, FileFormat::yaml);
  options.signal = SIGHUP;
  options.pid_file = dir / "service.pid";
  auto adapter = make_adapter(io, {"pool_size", "policy"}, options);
  const auto result = test::apply_now(io, adapter, {{"pool_size", std::int64_t{32}}, {"policy", std::string("lru")}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(eventually_holds(dir / "seen", read_file(path)));
  BOOST_TEST(contains(read_file(dir / "seen"), "pool_size: 32\npolicy: \"lru\"\n"));

  // By process id, and another signal.
  auto by_pid = file_options(path, FileFormat::yaml);
  by_pid.signal = SIGUSR1;
  by_pid.pid = service.pid();
  auto direct = make_adapter(io, {"pool_size", "policy"}, by_pid);
  const auto again = test::apply_now(io, direct, {{"pool_size", std::int64_t{48}}, {"policy", std::string("lfu")}});
  BOOST_TEST(static_cast<bool>(again), again.message);
  BOOST_TEST(eventually_holds(dir / "seen", read_file(path)));
  BOOST_TEST(contains(read_file(dir / "seen"), "pool_size: 48\npolicy: \"lfu\"\n"));
}

BOOST_AUTO_TEST_CASE(a_dead_process_fails_the_apply_and_the_old_content_is_put_back) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  const std::string old = "# hand-written\npool_size=4\n";
  write_file(path, old);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  const auto pid = dead_pid();
  write_file(dir / "service.pid", std::to_string(pid) + "\n");

  auto options = file_options(path, FileFormat::env);
  options.signal = SIGHUP;
  options.pid_file = dir / "service.pid";
  auto adapter = make_adapter(io, {"pool_size"}, options);
  const auto result = test::apply_now(io, adapter, {{"pool_size", std::int64_t{64}}});
  BOOST_TEST(result.error == boost::system::error_code(ESRCH, boost::system::system_category()));
  BOOST_TEST(result.message == "adapter 'web': cannot send SIGHUP to process " + std::to_string(pid) +
                                   " (from pid file " + (dir / "service.pid") +
                                   "): No such process; the previous content of " + path + " is back");
  BOOST_TEST(read_file(path) == old);
  BOOST_TEST(mode_of(path) == 0600u);
  BOOST_TEST((dir.entries() == std::vector<std::string>{"service.pid", "tuning.env"}));

  // Where there was no file, there is none again.
  auto fresh_options = options;
  fresh_options.path = dir / "fresh.env";
  auto fresh = make_adapter(io, {"pool_size"}, fresh_options);
  const auto fresh_result = test::apply_now(io, fresh, {{"pool_size", std::int64_t{64}}});
  BOOST_TEST(!fresh_result);
  BOOST_TEST(contains(fresh_result.message, (dir / "fresh.env") + " is removed again"), fresh_result.message);
  BOOST_TEST(!fs::exists(dir / "fresh.env"));
}

BOOST_AUTO_TEST_CASE(a_missing_or_garbled_pid_file_fails_before_the_file_changes) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  write_file(path, "pool_size=4\n");
  auto options = file_options(path, FileFormat::env);
  options.signal = SIGHUP;
  options.pid_file = dir / "service.pid";
  auto adapter = make_adapter(io, {"pool_size"}, options);

  const auto missing = test::apply_now(io, adapter, {{"pool_size", std::int64_t{64}}});
  BOOST_TEST(missing.error == boost::system::error_code(ENOENT, boost::system::system_category()));
  BOOST_TEST(missing.message == "adapter 'web': pid file " + (dir / "service.pid") +
                                    ": cannot read it: No such file or directory; " + path + " is unchanged");
  for (const std::string garbage : {"nginx\n", "0\n", "-12\n", "", "99999999999\n", "12 13\n"}) {
    write_file(dir / "service.pid", garbage);
    const auto garbled = test::apply_now(io, adapter, {{"pool_size", std::int64_t{64}}});
    BOOST_TEST(garbled.error == make_error_code(AdapterError::bad_response));
    BOOST_TEST(contains(garbled.message, "pid file " + (dir / "service.pid") + " holds '"), garbled.message);
    BOOST_TEST(contains(garbled.message, "', not a process id; " + path + " is unchanged"), garbled.message);
  }
  BOOST_TEST(read_file(path) == "pool_size=4\n");
  BOOST_TEST((dir.entries() == std::vector<std::string>{"service.pid", "tuning.env"}));
}

BOOST_AUTO_TEST_CASE(current_reads_what_is_there_or_says_it_cannot) {
  asio::io_context io;
  test::TempDir dir("trimtab-file");
  const auto path = dir / "tuning.env";
  auto adapter = make_adapter(io, {"pool_size", "policy"}, file_options(path, FileFormat::env));

  const auto [missing, none] = test::current_now(io, adapter);
  BOOST_TEST(missing.error == make_error_code(AdapterError::cannot_read));
  BOOST_TEST(missing.message == "adapter 'web': " + path + ": no such file yet, so the running values are not known");
  BOOST_TEST(none.empty());

  write_file(path, "\n");
  BOOST_TEST(test::current_now(io, adapter).first.error == make_error_code(AdapterError::cannot_read));

  // A file written by hand: comments, export, quotes, other keys.
  write_file(path, "# tuning\nexport pool_size=12\nOTHER=1\npolicy='least used'\n");
  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_TEST((values == Settings{{"pool_size", std::int64_t{12}}, {"policy", std::string("least used")}}));

  write_file(path, "pool_size=12\n");
  const auto [lacking, nothing] = test::current_now(io, adapter);
  BOOST_TEST(lacking.error == make_error_code(AdapterError::missing_param));
  BOOST_TEST(lacking.message == "adapter 'web': " + path + ": no 'policy'");

  auto yaml = make_adapter(io, {"pool_size"}, file_options(dir / "t.yaml", FileFormat::yaml));
  write_file(dir / "t.yaml", "pool:\n  size: 3\n");
  const auto [nested, empty] = test::current_now(io, yaml);
  BOOST_TEST(nested.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(nested.message == "adapter 'web': " + (dir / "t.yaml") +
                                   ": line 1: 'pool' has no value (nested maps and lists cannot be read)");
  write_file(dir / "t.yaml", "---\npool_size: 7   # by hand\n");
  BOOST_TEST((test::current_now(io, yaml).second == Settings{{"pool_size", std::int64_t{7}}}));

  auto json = make_adapter(io, {"pool_size"}, file_options(dir / "t.json", FileFormat::json));
  write_file(dir / "t.json", "[1, 2]");
  const auto [array, no] = test::current_now(io, json);
  BOOST_TEST(array.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(array.message == "adapter 'web': " + (dir / "t.json") + ": not a JSON object");
  write_file(dir / "t.json", "{\"pool_size\": null}");
  BOOST_TEST(test::current_now(io, json).first.message ==
             "adapter 'web': " + (dir / "t.json") + ": 'pool_size' is null, not a number or a string");
}

BOOST_AUTO_TEST_CASE(from_options_reads_the_keys_as_written) {
  const auto options = FileAdapter::from_options("web",
                                                 {{"path", "conf/tuning.yml"},
                                                  {"signal", "sighup"},
                                                  {"pid_file", "run/web.pid"},
                                                  {"names.pool_size", "POOL"},
                                                  {"timeout", "2s"}},
                                                 {}, "/etc/web");
  BOOST_TEST(options.path == "/etc/web/conf/tuning.yml");
  BOOST_TEST((options.format == FileFormat::yaml));
  BOOST_TEST(options.signal == SIGHUP);
  BOOST_TEST(options.pid_file == "/etc/web/run/web.pid");
  BOOST_TEST(!options.pid);
  BOOST_TEST(options.names.at("pool_size") == "POOL");
  BOOST_TEST(options.timeout.count() == 2000);

  BOOST_TEST((FileAdapter::from_options("web", {{"path", "/x/a.JSON"}}).format == FileFormat::json));
  BOOST_TEST((FileAdapter::from_options("web", {{"path", "/x/a.conf"}}).format == FileFormat::env));
  BOOST_TEST((FileAdapter::from_options("web", {{"path", "/x/a.conf"}, {"format", "YAML"}}).format == FileFormat::yaml));
  const auto by_pid = FileAdapter::from_options("web", {{"path", "/x/a"}, {"signal", "USR2"}, {"pid", "42"}});
  BOOST_TEST(by_pid.signal == SIGUSR2);
  BOOST_TEST(*by_pid.pid == 42);
  BOOST_TEST(by_pid.timeout.count() == 5000);

  BOOST_TEST(options_error({}) == "adapter 'web': option 'path' is required: the file the settings go to");
  BOOST_TEST(options_error({{"path", "/x"}, {"fromat", "json"}}) ==
             "adapter 'web': unknown option 'fromat' (did you mean 'format'?) (a file adapter takes path, format, "
             "signal, pid, pid_file, names and timeout)");
  BOOST_TEST(options_error({{"path", "/x"}, {"format", "xml"}}) ==
             "adapter 'web': option 'format': 'xml' is not json, yaml or env");
  BOOST_TEST(options_error({{"path", "/x"}, {"signal", "HUPP"}}) ==
             "adapter 'web': option 'signal': 'HUPP' is not a signal to reload with (did you mean 'HUP'?) (HUP, USR1, "
             "USR2, INT, QUIT, TERM, ALRM, WINCH, CONT, TTIN, TTOU)");
  BOOST_TEST(contains(options_error({{"path", "/x"}, {"signal", "KILL"}}), "'KILL' is not a signal to reload with"));
  for (const std::string pid : {"abc", "0", "-5", "", "12345678901"})
    BOOST_TEST(options_error({{"path", "/x"}, {"signal", "HUP"}, {"pid", pid}}) ==
               "adapter 'web': option 'pid': '" + pid + "' is not a process id (a number above 0)");
  BOOST_TEST(options_error({{"path", "/x"}}, {{"path", {"/y"}}}) ==
             "adapter 'web': option 'path' takes one value, not a list");
  BOOST_TEST(options_error({{"path", "/x"}, {"names", "POOL"}}) ==
             "adapter 'web': option 'names' must be a map from param to the key in the file, such as {pool_size: "
             "POOL_SIZE}");
  BOOST_TEST(options_error({{"path", "/x"}, {"signal.x", "HUP"}}) == "adapter 'web': option 'signal' takes one value, not a map");
  BOOST_TEST(contains(options_error({{"path", "/x"}, {"timeout", "5"}}), "option 'timeout': "));
}

BOOST_AUTO_TEST_CASE(construction_refuses_inconsistent_options) {
  const auto with = [](auto change) {
    FileAdapterOptions options;
    options.path = "/tmp/trimtab-never-written.env";
    change(options);
    return options;
  };
  BOOST_TEST(construction_error({"pool_size"}, with([](auto&) {})) == "accepted");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.signal = SIGHUP; })) ==
             "adapter 'web': a signal needs the process to send it to: give 'pid' or 'pid_file'");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.pid = 42; })) ==
             "adapter 'web': 'pid' and 'pid_file' say where a signal goes: give 'signal' too, such as HUP");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) {
               o.signal = SIGHUP;
               o.pid = 42;
               o.pid_file = "/run/x.pid";
             })) == "adapter 'web': give 'pid' or 'pid_file', not both");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.names = {{"size", "SIZE"}}; })) ==
             "adapter 'web': names: 'size' is not one of the adapter's params");
  BOOST_TEST(construction_error({"pool.size"}, with([](auto&) {})) ==
             "adapter 'web': 'pool.size' cannot be a key in an env file (letters, digits and _, not starting with a "
             "digit); give param 'pool.size' another with names: {pool.size: SOME_KEY}");
  BOOST_TEST(construction_error({"a", "b"}, with([](auto& o) { o.names = {{"b", "a"}}; })) ==
             "adapter 'web': two params have the key 'a' in the file");
  BOOST_TEST(construction_error({"pool.size"}, with([](auto& o) { o.format = FileFormat::json; })) == "accepted");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.path = "/tmp"; })) ==
             "adapter 'web': path /tmp is a directory");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.path.clear(); })) == "adapter 'web': no path");
  BOOST_TEST(construction_error({"pool_size"}, with([](auto& o) { o.timeout = 0ms; })) ==
             "adapter 'web': the timeout must be positive");
}

BOOST_AUTO_TEST_SUITE_END()
