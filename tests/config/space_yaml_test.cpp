#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <trimtab/config/config_error.hpp>
#include <trimtab/config/space_yaml.hpp>

using namespace trimtab;
namespace fs = std::filesystem;

namespace {

// A YAML file in a private temporary folder, removed when the test ends.
class YamlFile {
public:
  explicit YamlFile(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("trimtab-space-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".yaml");
    std::ofstream(path_) << text;
  }
  ~YamlFile() { fs::remove(path_); }
  [[nodiscard]] const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

// "line:column: message" of the error loading `text`, or "accepted".
std::string error_of(const std::string& text) {
  const YamlFile file(text);
  try {
    (void)load_space_file(file.path());
  } catch (const ConfigError& e) {
    BOOST_TEST(e.file() == file.path().string());
    const std::string what = e.what();
    auto rest = what.substr(file.path().string().size() + 1);
    return rest.starts_with(' ') ? rest.substr(1) : rest; // "file: message" has no line and column
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(space_yaml)

BOOST_AUTO_TEST_CASE(reads_every_kind_in_file_order) {
  const YamlFile file(R"(# a comment
params:
  pool_size:  {type: int, min: 5, max: 100, default: 20}
  timeout_ms: {type: float, min: 100, max: 5000, log: true, grid_points: 4}
  batch:      {type: ordinal, choices: [4, 8, 16]}
  policy:     {type: categorical, choices: [lru, lfu, random], default: lfu}
  workers:    {type: int, min: 0, max: 64, step: 8}
other_section: {ignored: here}
)");
  const auto space = load_space_file(file.path());
  BOOST_TEST(space.size() == 5u);
  BOOST_TEST(space.params()[0].name == "pool_size");
  BOOST_TEST(space.params()[4].name == "workers");
  const auto& timeout = std::get<FloatRange>(space.params()[1].domain);
  BOOST_TEST(timeout.log);
  BOOST_TEST(*space.params()[1].grid_points == 4u);
  BOOST_TEST(std::get<IntRange>(space.params()[4].domain).step == 8);
  BOOST_TEST(std::get<std::string>(space.default_point().values[3]) == "lfu");
  BOOST_TEST(std::get<std::int64_t>(space.default_point().values[0]) == 20);
}

BOOST_AUTO_TEST_CASE(points_at_the_field_at_fault) {
  BOOST_TEST(error_of("params:\n  pool: {type: int, min: 10, max: 5}\n") ==
             "2:26: param 'pool': min (10) must be below max (5); remove the parameter to keep a value fixed");
  BOOST_TEST(error_of("params:\n  t: {type: float, min: 0, max: 9, log: true}\n") ==
             "2:41: param 't': log needs min > 0, not 0");
  BOOST_TEST(error_of("params:\n  b:\n    type: ordinal\n    choices: [4, 8]\n    default: 6\n") ==
             "5:14: param 'b': default '6' is not one of the choices");
}

BOOST_AUTO_TEST_CASE(suggests_the_key_that_was_meant) {
  BOOST_TEST(error_of("params:\n  pool: {type: int, min: 1, mx: 5}\n") ==
             "2:29: param 'pool': unknown key 'mx' (did you mean 'max'?)");
  BOOST_TEST(error_of("params:\n  pool: {type: flaot, min: 1, max: 5}\n") ==
             "2:16: param 'pool': unknown type 'flaot' (did you mean 'float'?); the types are int, float, ordinal "
             "and categorical");
  BOOST_TEST(error_of("parms:\n  pool: {type: int, min: 1, max: 5}\n") == "1:1: unknown section 'parms' (did you mean 'params'?)");
}

BOOST_AUTO_TEST_CASE(rejects_values_of_the_wrong_type) {
  BOOST_TEST(error_of("params:\n  pool: {type: int, min: 1.5, max: 5}\n") ==
             "2:26: min must be a whole number, not '1.5'");
  BOOST_TEST(error_of("params:\n  t: {type: float, min: low, max: 5}\n") == "2:25: min must be a finite number, not 'low'");
  BOOST_TEST(error_of("params:\n  t: {type: float, min: 1, max: 5, log: maybe}\n") ==
             "2:41: log must be true or false, not 'maybe'");
  BOOST_TEST(error_of("params:\n  b: {type: ordinal, choices: 4}\n") == "2:31: choices must be a list such as [4, 8, 16]");
  BOOST_TEST(error_of("params:\n  t: {type: float, min: 1, max: 5, step: 1}\n") ==
             "2:36: param 't': 'step' does not apply to float params");
  BOOST_TEST(error_of("params:\n  t: {min: 1, max: 5}\n") ==
             "2:6: param 't' has no type (int, float, ordinal or categorical)");
  BOOST_TEST(error_of("params:\n  t: {type: int, min: 1}\n") == "2:6: param 't' (int) needs 'max'");
}

BOOST_AUTO_TEST_CASE(rejects_duplicates_syntax_errors_and_missing_files) {
  BOOST_TEST(error_of("params:\n  a: {type: int, min: 1, max: 5}\n  a: {type: int, min: 1, max: 9}\n") ==
             "3:3: param 'a' is defined twice (first on line 2)");
  BOOST_TEST(error_of("params:\n  a: {type: int, min: 1, max: 5\n").substr(0, 4) == "3:1:");
  BOOST_TEST(error_of("params: []\n") == "1:9: 'params' must be a map of parameter names to their definitions");
  BOOST_TEST(error_of("- just\n- a list\n") == "expected a map with a 'params' key at the top");
  try {
    (void)load_space_file("/nonexistent/space.yaml");
    BOOST_FAIL("a missing file was accepted");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) == "/nonexistent/space.yaml: cannot read the file");
  }
}

BOOST_AUTO_TEST_CASE(the_bundled_example_space_loads) {
  const auto space = load_space_file(fs::path(TRIMTAB_SOURCE_DIR) / "examples/spaces/service.yaml");
  BOOST_TEST(space.size() == 4u);
  BOOST_TEST(space.dimensions() == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
