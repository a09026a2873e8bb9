#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <trimtab/agent/journal.hpp>

using namespace trimtab;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// A fresh directory under the system's temporary directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string name = (fs::temp_directory_path() / "trimtab-journal-test-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

json::object record(const std::string& type, json::object more = {}) {
  more["type"] = type;
  return more;
}

/// The journal `lines` make, one per line, each ended by '\n'.
std::string lines(std::initializer_list<std::string> texts) {
  std::string text;
  for (const auto& line : texts) text += line + "\n";
  return text;
}

const std::string good_1 = R"({"seq":1,"time":1000,"type":"start","enabled":true})";
const std::string good_2 = R"({"seq":2,"time":1001,"type":"apply","point":{"pool_size":20}})";
const std::string good_3 = R"({"seq":3,"time":1002,"type":"applied","point":{"pool_size":20}})";

/// open() throws JournalError for the line `line`, whose message mentions `words`.
void expect_corrupt(const std::string& text, std::size_t line, const std::string& words) {
  TempDir dir;
  write_text(dir.path / "journal.jsonl", text);
  try {
    (void)Journal::open(dir.path);
    BOOST_FAIL("no JournalError for line " << line);
  } catch (const JournalError& e) {
    BOOST_TEST(e.line() == line);
    const std::string what = e.what();
    BOOST_TEST(what.find("journal.jsonl:" + std::to_string(line) + ": ") != std::string::npos, what);
    BOOST_TEST(what.find(words) != std::string::npos, what);
  }
  BOOST_TEST(read_text(dir.path / "journal.jsonl") == text); // a corrupt journal is left as it was
}

/// File operations that write `budget` bytes and then fail every write with `error`.
struct FullDisk {
  std::size_t budget;
  int error = ENOSPC;
  JournalFileOps ops() {
    return {[this](int fd, const void* data, std::size_t size) -> ssize_t {
              if (budget == 0) {
                errno = error;
                return -1;
              }
              const ssize_t n = ::write(fd, data, std::min(size, budget));
              if (n > 0) budget -= static_cast<std::size_t>(n);
              return n;
            },
            {},
            {}};
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(creates_a_private_state_directory_and_an_empty_journal) {
  TempDir tmp;
  const auto state = tmp.path / "var" / "state";
  const mode_t old_umask = ::umask(022);
  auto journal = Journal::open(state);
  ::umask(old_umask);
  BOOST_TEST(mode_of(state) == 0700u);
  BOOST_TEST(mode_of(tmp.path / "var") == 0700u);
  BOOST_TEST(mode_of(state / "journal.jsonl") == 0600u);
  BOOST_TEST(journal.path() == state / "journal.jsonl");
  BOOST_TEST(journal.records().empty());
  BOOST_TEST(journal.next_seq() == 1u);
  BOOST_TEST(journal.recovered_bytes() == 0u);
  BOOST_TEST(journal.size() == 0u);
}

BOOST_AUTO_TEST_CASE(leaves_an_existing_directory_mode_alone) {
  TempDir tmp;
  BOOST_REQUIRE(::chmod(tmp.path.c_str(), 0750) == 0);
  auto journal = Journal::open(tmp.path.string() + "/"); // a trailing slash names the same directory
  BOOST_TEST(mode_of(tmp.path) == 0750u);
  BOOST_TEST(journal.path() == tmp.path / "journal.jsonl");
}

BOOST_AUTO_TEST_CASE(a_state_dir_that_is_a_file_is_a_system_error) {
  TempDir tmp;
  write_text(tmp.path / "file", "x");
  BOOST_CHECK_THROW((void)Journal::open(tmp.path / "file"), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(appends_durable_lines_and_replays_them) {
  TempDir tmp;
  {
    auto journal = Journal::open(tmp.path);
    BOOST_TEST(!journal.append(record("start", {{"enabled", true}, {"resumed", false}}), 1000));
    BOOST_TEST(!journal.append(record("apply", {{"point", {{"pool_size", 20}}}, {"purpose", "candidate"}}), 1001));
    BOOST_TEST(!journal.append(record("observation", {{"value", 12.5}}), 1002));
    BOOST_TEST(journal.next_seq() == 4u);
    BOOST_TEST(journal.records().empty()); // only what open() replayed
  }
  const std::string text = read_text(tmp.path / "journal.jsonl");
  BOOST_TEST(text == lines({R"({"seq":1,"time":1000,"type":"start","enabled":true,"resumed":false})",
                            R"({"seq":2,"time":1001,"type":"apply","point":{"pool_size":20},"purpose":"candidate"})",
                            R"({"seq":3,"time":1002,"type":"observation","value":12.5})"}));

  auto journal = Journal::open(tmp.path);
  BOOST_REQUIRE(journal.records().size() == 3u);
  BOOST_TEST(journal.records()[1].at("point").at("pool_size").as_int64() == 20);
  BOOST_TEST(journal.records()[2].at("value").as_double() == 12.5);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(journal.records()[i].at("seq").as_int64() == static_cast<std::int64_t>(i + 1));
    BOOST_TEST(journal.records()[i].at("time").as_int64() == static_cast<std::int64_t>(1000 + i));
  }
  BOOST_TEST(journal.next_seq() == 4u);
  BOOST_TEST(journal.size() == text.size());
  BOOST_TEST(!journal.append(record("done"), 1003));
  BOOST_TEST(read_text(journal.path()) == text + lines({R"({"seq":4,"time":1003,"type":"done"})"}));
}

BOOST_AUTO_TEST_CASE(replays_a_hand_written_journal_whatever_the_key_order) {
  TempDir tmp;
  write_text(tmp.path / "journal.jsonl",
             lines({good_1, R"({"point":{"pool_size":20},"type":"apply","seq":2,"time":1001})",
                    R"({"time":1002,"type":"applied","seq":3})"}));
  auto journal = Journal::open(tmp.path);
  BOOST_REQUIRE(journal.records().size() == 3u);
  BOOST_TEST(journal.records()[0].at("type").as_string() == "start");
  BOOST_TEST(journal.records()[1].at("type").as_string() == "apply");
  BOOST_TEST(journal.records()[2].at("type").as_string() == "applied");
  BOOST_TEST(journal.next_seq() == 4u);
  BOOST_TEST(journal.recovered_bytes() == 0u);
}

// The agent takes the replayed records once folded, so a long journal is not held for the run.
BOOST_AUTO_TEST_CASE(the_callers_seq_and_time_are_replaced) {
  TempDir tmp;
  auto journal = Journal::open(tmp.path);
  BOOST_TEST(!journal.append({{"time", 5}, {"seq", 99}, {"type", "start"}, {"x", 1}}, 7000));
  BOOST_TEST(read_text(journal.path()) == lines({R"({"seq":1,"time":7000,"type":"start","x":1})"}));
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_cut_away_and_appending_continues) {
  TempDir tmp;
  const std::string torn = R"({"seq":4,"time":1003,"type":"obse)";
  write_text(tmp.path / "journal.jsonl", lines({good_1, good_2, good_3}) + torn);
  {
    auto journal = Journal::open(tmp.path);
    BOOST_TEST(journal.records().size() == 3u);
    BOOST_TEST(journal.recovered_bytes() == torn.size());
    BOOST_TEST(read_text(journal.path()) == lines({good_1, good_2, good_3}));
    BOOST_TEST(journal.next_seq() == 4u);
    BOOST_TEST(!journal.append(record("observation"), 1004));
  }
  auto journal = Journal::open(tmp.path);
  BOOST_REQUIRE(journal.records().size() == 4u);
  BOOST_TEST(journal.records()[3].at("seq").as_int64() == 4);
  BOOST_TEST(journal.records()[3].at("time").as_int64() == 1004);
  BOOST_TEST(journal.recovered_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_whole_record_without_its_newline_was_not_durable_and_is_dropped) {
  TempDir tmp;
  const std::string last = R"({"seq":2,"time":1001,"type":"apply"})";
  write_text(tmp.path / "journal.jsonl", lines({good_1}) + last);
  auto journal = Journal::open(tmp.path);
  BOOST_TEST(journal.records().size() == 1u);
  BOOST_TEST(journal.recovered_bytes() == last.size());
  BOOST_TEST(journal.next_seq() == 2u);
}

BOOST_AUTO_TEST_CASE(an_unparsable_last_line_is_dropped) {
  TempDir tmp;
  // Zeros where a crash left the file longer than its data, then the newline of a torn write.
  const std::string garbage = std::string(5, '\0') + "\n";
  write_text(tmp.path / "journal.jsonl", lines({good_1, good_2}) + garbage);
  auto journal = Journal::open(tmp.path);
  BOOST_TEST(journal.records().size() == 2u);
  BOOST_TEST(journal.recovered_bytes() == garbage.size());
  BOOST_TEST(read_text(journal.path()) == lines({good_1, good_2}));

  TempDir only_torn;
  write_text(only_torn.path / "journal.jsonl", R"({"seq":1,"ti)");
  auto empty = Journal::open(only_torn.path);
  BOOST_TEST(empty.records().empty());
  BOOST_TEST(empty.size() == 0u);
  BOOST_TEST(read_text(empty.path()).empty());
}

BOOST_AUTO_TEST_CASE(a_corrupt_line_before_the_last_names_its_line) {
  expect_corrupt(lines({good_1, R"({"seq":2,"time":1001,"type":"apply",})", good_3}), 2, "not JSON (column 37");
  expect_corrupt(lines({good_1, "", good_3}), 2, "empty line");
  expect_corrupt(lines({good_1, "[1, 2]", good_3}), 2, "not a JSON object");
  // Only a torn *last* line is forgiven: garbage with a good line after it is not a crash.
  expect_corrupt(lines({good_1, R"({"seq":2,"ti)", good_3}), 2, "not JSON");
}

namespace {

/// `count` records of about 300 bytes each, seq 1 to count: longer than one of open()'s 1 MiB
/// reads when count is in the thousands, so lines straddle the reads.
std::string long_journal(std::size_t count) {
  std::string text;
  for (std::size_t seq = 1; seq <= count; ++seq)
    text += R"({"seq":)" + std::to_string(seq) + R"(,"time":)" + std::to_string(1000 + seq) +
            R"(,"type":"observation","padding":")" + std::string(250 + seq % 7, 'x') + "\"}\n";
  return text;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_visitor_gets_every_record_of_a_long_journal_in_order_and_none_is_kept) {
  TempDir tmp;
  const std::string torn = R"({"seq":10001,"time":11001,"type":"obse)";
  const std::string complete = long_journal(10000);
  BOOST_REQUIRE(complete.size() > 2u * 1024 * 1024);
  write_text(tmp.path / "journal.jsonl", complete + torn);
  std::int64_t expected_seq = 1;
  std::size_t visited = 0;
  {
    auto journal = Journal::open(tmp.path, [&](json::object r) {
      BOOST_TEST(r.at("seq").as_int64() == expected_seq);
      BOOST_TEST(r.at("padding").as_string().size() == 250u + static_cast<std::size_t>(expected_seq % 7));
      ++expected_seq;
      ++visited;
    });
    BOOST_TEST(visited == 10000u);
    BOOST_TEST(journal.records().empty());
    BOOST_TEST(journal.recovered_bytes() == torn.size());
    BOOST_TEST(journal.size() == complete.size());
    BOOST_TEST(journal.next_seq() == 10001u);
    BOOST_TEST(!journal.append(record("observation"), 20000));
  }
  // What the collecting open() reads from the same file, after the cut and the append.
  auto journal = Journal::open(tmp.path);
  BOOST_REQUIRE(journal.records().size() == 10001u);
  BOOST_TEST(journal.records().back().at("time").as_int64() == 20000);
  BOOST_TEST(journal.recovered_bytes() == 0u);
}

// open() reads 1 MiB at a time: a line whose newline is the last byte of a read, and a torn line
// that starts exactly where the next read begins, are read as anywhere else.
BOOST_AUTO_TEST_CASE(lines_that_end_or_start_exactly_at_a_read_boundary) {
  constexpr std::size_t read_size = std::size_t{1} << 20;
  const auto line = [](std::int64_t seq, std::size_t padding) {
    return R"({"seq":)" + std::to_string(seq) + R"(,"time":)" + std::to_string(1000 + seq) +
           R"(,"type":"observation","padding":")" + std::string(padding, 'x') + "\"}\n";
  };
  std::string text;
  std::int64_t seq = 0;
  while (text.size() + 1000 < read_size) text += line(++seq, 250);
  // The last line before the boundary is padded so that its newline is the read's last byte.
  ++seq;
  text += line(seq, read_size - text.size() - line(seq, 0).size());
  BOOST_REQUIRE(text.size() == read_size);
  BOOST_REQUIRE(text.back() == '\n');
  const std::string torn = R"({"seq":)" + std::to_string(seq + 1) + R"(,"time":1,"type":"obs)";
  TempDir tmp;
  write_text(tmp.path / "journal.jsonl", text + torn);
  std::int64_t expected = 1;
  auto journal = Journal::open(tmp.path, [&](json::object r) { BOOST_TEST(r.at("seq").as_int64() == expected++); });
  BOOST_TEST(expected - 1 == seq);
  BOOST_TEST(journal.size() == read_size);
  BOOST_TEST(journal.recovered_bytes() == torn.size());
  BOOST_TEST(journal.next_seq() == static_cast<std::uint64_t>(seq + 1));

  // The same file ending at the boundary, then a last line that does not parse after it.
  const std::string garbage = std::string(3, '\0') + "\n";
  write_text(tmp.path / "journal.jsonl", text + garbage);
  journal = Journal::open(tmp.path / "elsewhere"); // releases the lock
  auto again = Journal::open(tmp.path);
  BOOST_TEST(again.records().size() == static_cast<std::size_t>(seq));
  BOOST_TEST(again.recovered_bytes() == garbage.size());
}

BOOST_AUTO_TEST_CASE(a_corrupt_line_past_the_first_read_names_its_line_after_the_records_before_it) {
  TempDir tmp;
  const std::string text = long_journal(5000) + R"({"seq":5001,"time":6001,"type":)" + "\n" +
                           R"({"seq":5002,"time":6002,"type":"observation"})" + "\n";
  write_text(tmp.path / "journal.jsonl", text);
  std::size_t visited = 0;
  try {
    (void)Journal::open(tmp.path, [&](json::object) { ++visited; });
    BOOST_FAIL("a corrupt line was accepted");
  } catch (const JournalError& e) {
    BOOST_TEST(e.line() == 5001u);
  }
  BOOST_TEST(visited == 5000u);
  BOOST_TEST(read_text(tmp.path / "journal.jsonl") == text); // left as it was
}

BOOST_AUTO_TEST_CASE(what_the_visitor_throws_leaves_open_and_releases_the_journal) {
  TempDir tmp;
  write_text(tmp.path / "journal.jsonl", lines({good_1, good_2, good_3}));
  BOOST_CHECK_THROW((void)Journal::open(tmp.path,
                                        [](json::object r) {
                                          if (r.at("seq").as_int64() == 2) throw std::invalid_argument("record 2 does not fit");
                                        }),
                    std::invalid_argument);
  auto journal = Journal::open(tmp.path); // not still locked by the failed open
  BOOST_TEST(journal.records().size() == 3u);
  BOOST_TEST(read_text(journal.path()) == lines({good_1, good_2, good_3}));
}

BOOST_AUTO_TEST_CASE(a_seq_gap_or_repeat_is_an_error) {
  expect_corrupt(lines({good_1, good_3}), 2, "\"seq\" is 3 where 2 was expected (records are missing");
  expect_corrupt(lines({good_1, good_2, good_2}), 3, "\"seq\" is 2 where 3 was expected (a record is repeated");
  expect_corrupt(lines({R"({"seq":0,"time":1,"type":"start"})"}), 1, "where 1 was expected");
  expect_corrupt(lines({R"({"seq":"1","time":1,"type":"start"})"}), 1, "\"seq\" is \"1\", not an integer");
  expect_corrupt(lines({R"({"seq":1.0,"time":1,"type":"start"})"}), 1, "not an integer");
  expect_corrupt(lines({R"({"time":1,"type":"start"})"}), 1, "no \"seq\"");
  // The last line parses, so it is not torn: a bad last record is corruption too.
  expect_corrupt(lines({good_1, good_2, R"({"seq":5,"time":1,"type":"applied"})"}), 3, "where 3 was expected");
}

BOOST_AUTO_TEST_CASE(time_and_type_are_required) {
  expect_corrupt(lines({good_1, R"({"seq":2,"time":1001})", good_3}), 2, "no \"type\"");
  expect_corrupt(lines({good_1, R"({"seq":2,"time":1001,"type":7})"}), 2, "\"type\" is 7");
  expect_corrupt(lines({good_1, R"({"seq":2,"time":1001,"type":""})"}), 2, "not the name of a record type");
  expect_corrupt(lines({R"({"seq":1,"type":"start"})"}), 1, "no \"time\"");
  expect_corrupt(lines({R"({"seq":1,"time":1.5,"type":"start"})"}), 1, "\"time\" is 1.5, not an integer");
}

BOOST_AUTO_TEST_CASE(a_full_disk_leaves_the_file_as_it_was_and_the_seq_unused) {
  TempDir tmp;
  FullDisk disk{std::numeric_limits<std::size_t>::max()};
  auto journal = Journal::open(tmp.path, disk.ops());
  BOOST_TEST(!journal.append(record("start"), 1000));
  const std::string before = read_text(journal.path());

  for (const std::size_t budget : {0u, 1u, 20u}) {
    disk.budget = budget; // the write stops short after `budget` bytes, then reports ENOSPC
    const auto ec = journal.append(record("apply", {{"point", {{"pool_size", 30}}}}), 1001);
    BOOST_TEST((ec == boost::system::errc::no_space_on_device), budget << ": " << ec.message());
    BOOST_TEST(read_text(journal.path()) == before);
    BOOST_TEST(journal.next_seq() == 2u);
    BOOST_TEST(journal.size() == before.size());
  }

  disk.budget = std::numeric_limits<std::size_t>::max(); // space freed
  BOOST_TEST(!journal.append(record("apply"), 1002));
  BOOST_TEST(read_text(journal.path()) == before + lines({R"({"seq":2,"time":1002,"type":"apply"})"}));
  BOOST_TEST(journal.next_seq() == 3u);
}

BOOST_AUTO_TEST_CASE(short_writes_are_continued) {
  TempDir tmp;
  int calls = 0;
  JournalFileOps ops;
  ops.write = [&](int fd, const void* data, std::size_t size) -> ssize_t {
    ++calls;
    if (calls == 1) { // interrupted before anything was written
      errno = EINTR;
      return -1;
    }
    return ::write(fd, data, std::min<std::size_t>(size, 7)); // 7 bytes at a time
  };
  auto journal = Journal::open(tmp.path, ops);
  BOOST_TEST(!journal.append(record("start", {{"note", std::string(50, 'n')}}), 1000));
  BOOST_TEST(calls > 5);
  BOOST_TEST(read_text(journal.path()) ==
             lines({R"({"seq":1,"time":1000,"type":"start","note":")" + std::string(50, 'n') + "\"}"}));
}

BOOST_AUTO_TEST_CASE(a_write_that_makes_no_progress_is_an_io_error) {
  TempDir tmp;
  JournalFileOps ops;
  ops.write = [](int, const void*, std::size_t) -> ssize_t { return 0; };
  auto journal = Journal::open(tmp.path, ops);
  BOOST_TEST((journal.append(record("start"), 1000) == boost::system::errc::io_error));
  BOOST_TEST(journal.next_seq() == 1u);
  BOOST_TEST(read_text(journal.path()).empty());
}

BOOST_AUTO_TEST_CASE(a_failed_fdatasync_cuts_the_record_back_out) {
  TempDir tmp;
  bool sync_fails = true;
  JournalFileOps ops;
  ops.datasync = [&](int fd) {
    if (sync_fails) {
      sync_fails = false; // the fdatasync after the truncation succeeds
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  };
  auto journal = Journal::open(tmp.path, ops);
  BOOST_TEST((journal.append(record("start"), 1000) == boost::system::errc::io_error));
  BOOST_TEST(read_text(journal.path()).empty());
  BOOST_TEST(journal.next_seq() == 1u);
  BOOST_TEST(!journal.append(record("start"), 1001));
  BOOST_TEST(read_text(journal.path()) == lines({R"({"seq":1,"time":1001,"type":"start"})"}));
}

BOOST_AUTO_TEST_CASE(a_failed_cut_back_is_retried_before_the_next_write) {
  TempDir tmp;
  FullDisk disk{std::numeric_limits<std::size_t>::max()};
  int truncate_failures = 0;
  auto ops = disk.ops();
  ops.truncate = [&](int fd, off_t size) {
    if (truncate_failures > 0) {
      --truncate_failures;
      errno = EIO;
      return -1;
    }
    return ::ftruncate(fd, size);
  };
  auto journal = Journal::open(tmp.path, ops);
  BOOST_TEST(!journal.append(record("start"), 1000));
  const std::string before = read_text(journal.path());

  disk.budget = 10;
  truncate_failures = 2; // the cut-back after the failed write, and the retry at the next append
  BOOST_TEST((journal.append(record("apply"), 1001) == boost::system::errc::no_space_on_device));
  BOOST_TEST(read_text(journal.path()).size() == before.size() + 10); // the half line is still there…
  disk.budget = std::numeric_limits<std::size_t>::max();
  BOOST_TEST((journal.append(record("apply"), 1002) == boost::system::errc::io_error)); // …so nothing more goes
  BOOST_TEST(read_text(journal.path()).size() == before.size() + 10);
  BOOST_TEST(journal.next_seq() == 2u);

  BOOST_TEST(!journal.append(record("apply"), 1003)); // the cut now works, then the record goes in whole
  BOOST_TEST(read_text(journal.path()) == before + lines({R"({"seq":2,"time":1003,"type":"apply"})"}));
}

BOOST_AUTO_TEST_CASE(a_record_without_a_type_is_refused) {
  TempDir tmp;
  auto journal = Journal::open(tmp.path);
  BOOST_TEST((journal.append({{"point", json::object{}}}, 1000) == boost::system::errc::invalid_argument));
  BOOST_TEST((journal.append({{"type", 3}}, 1000) == boost::system::errc::invalid_argument));
  BOOST_TEST(journal.next_seq() == 1u);
  BOOST_TEST(read_text(journal.path()).empty());
}

BOOST_AUTO_TEST_CASE(large_records_and_awkward_numbers_round_trip) {
  TempDir tmp;
  const std::string big(100 * 1024, 'x');
  {
    auto journal = Journal::open(tmp.path);
    BOOST_TEST(!journal.append(record("observation", {{"note", big}, {"value", 0.001}, {"nan", std::nan("")}}), 1));
    BOOST_TEST(!journal.append(record("done"), 2));
  }
  const std::string text = read_text(tmp.path / "journal.jsonl");
  BOOST_TEST(text.find(R"("value":0.001,"nan":null})") != std::string::npos); // as trimtab solve writes numbers
  auto journal = Journal::open(tmp.path);
  BOOST_REQUIRE(journal.records().size() == 2u);
  BOOST_TEST(journal.records()[0].at("note").as_string() == big);
  BOOST_TEST(journal.records()[0].at("value").as_double() == 0.001);
  BOOST_TEST(journal.records()[0].at("nan").is_null());
}

BOOST_AUTO_TEST_CASE(one_journal_per_state_directory_at_a_time) {
  TempDir tmp;
  {
    auto journal = Journal::open(tmp.path);
    try {
      (void)Journal::open(tmp.path);
      BOOST_FAIL("a second Journal opened the same file");
    } catch (const boost::system::system_error& e) {
      BOOST_TEST(std::string(e.what()).find("another trimtab agent has it open") != std::string::npos, e.what());
    }
    Journal moved = std::move(journal); // the lock moves with it
    BOOST_CHECK_THROW((void)Journal::open(tmp.path), boost::system::system_error);
    BOOST_TEST(!moved.append(record("start"), 1));
    BOOST_TEST((journal.append(record("start"), 2) == boost::system::errc::bad_file_descriptor));
  }
  BOOST_TEST(Journal::open(tmp.path).next_seq() == 2u); // closed, so free again
}

BOOST_AUTO_TEST_CASE(write_file_atomically_replaces_and_leaves_no_temporary_file) {
  TempDir tmp;
  const auto path = tmp.path / "settings.json";
  BOOST_TEST(!write_file_atomically(path, "first\n"));
  BOOST_TEST(read_text(path) == "first\n");
  BOOST_TEST(mode_of(path) == 0600u);
  BOOST_TEST(!write_file_atomically(path, "second"));
  BOOST_TEST(read_text(path) == "second");
  BOOST_TEST(!write_file_atomically(path, ""));
  BOOST_TEST(read_text(path).empty());
  BOOST_TEST(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1);

  const auto ec = write_file_atomically(tmp.path / "missing" / "settings.json", "x");
  BOOST_TEST((ec == boost::system::errc::no_such_file_or_directory));
  BOOST_TEST(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_CASE(runtime_config_is_private_and_reads_back) {
  TempDir tmp;
  const auto state = tmp.path / "state";
  (void)Journal::open(state);
  const json::object config{{"point", {{"pool_size", 40}, {"policy", "lru"}}}, {"value", 12.5}, {"seq", 17},
                            {"time", 1700000000123}};
  BOOST_TEST(!write_runtime_config(state, config));
  const auto path = state / "runtime_config.json";
  BOOST_TEST(mode_of(path) == 0600u);
  const std::string text = read_text(path);
  BOOST_TEST(text.back() == '\n');
  BOOST_TEST(json::parse(text) == json::value(config));

  BOOST_TEST((write_runtime_config(state, {{"point", 3}, {"seq", 1}}) == boost::system::errc::invalid_argument));
  BOOST_TEST((write_runtime_config(state, {{"point", json::object{}}}) == boost::system::errc::invalid_argument));
  BOOST_TEST(read_text(path) == text);
}

BOOST_AUTO_TEST_CASE(opening_removes_runtime_config_temporaries_a_crash_left) {
  TempDir dir;
  { auto journal = Journal::open(dir.path); }
  std::ofstream(dir.path / ".runtime_config.json.tmp.Ab12Cd") << "{\"point\": {}}";
  std::ofstream(dir.path / "operator-notes.txt") << "mine";
  auto journal = Journal::open(dir.path);
  BOOST_TEST(!fs::exists(dir.path / ".runtime_config.json.tmp.Ab12Cd"));
  BOOST_TEST(fs::exists(dir.path / "operator-notes.txt")); // nothing else is touched
}

BOOST_AUTO_TEST_CASE(compaction_rewrites_the_journal_keeps_the_old_one_and_appending_goes_on) {
  TempDir tmp;
  auto journal = Journal::open(tmp.path);
  for (int i = 1; i <= 10; ++i) BOOST_TEST(!journal.append(record(i % 2 == 1 ? "observation" : "decision"), 1000 + i));
  const auto before = read_text(journal.path());
  // Keep a leading `compacted` record and the odd seqs, having seen every record first.
  std::vector<std::int64_t> seen;
  const auto ec = journal.compact([&](json::object r) { seen.push_back(r.at("seq").as_int64()); },
                                  [&] {
                                    BOOST_TEST(seen.size() == 10u); // every record before the header
                                    return json::object{{"seq", 0}, {"time", 1010}, {"type", "compacted"}};
                                  },
                                  [](std::size_t index) { return index % 2 == 0; }); // seq = index + 1
  BOOST_TEST(seen == std::vector<std::int64_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), boost::test_tools::per_element());
  BOOST_TEST(!ec, ec.message());
  BOOST_TEST(read_text(tmp.path / "journal.jsonl.1") == before);
  BOOST_TEST(journal.size() == read_text(journal.path()).size());
  BOOST_TEST(journal.next_seq() == 11u);
  // Still locked, by the new file: no second agent gets in.
  BOOST_CHECK_THROW((void)Journal::open(tmp.path), boost::system::system_error);
  BOOST_TEST(!journal.append(record("done"), 1011));
  journal = Journal::open(tmp.path / "elsewhere"); // closes the compacted journal
  auto reopened = Journal::open(tmp.path);
  const auto& records = reopened.records();
  BOOST_REQUIRE(records.size() == 7u); // compacted, seqs 1 3 5 7 9, and 11
  BOOST_TEST(records.front().at("type").as_string() == "compacted");
  BOOST_TEST(records[1].at("seq").as_int64() == 1);
  BOOST_TEST(records[5].at("seq").as_int64() == 9);
  BOOST_TEST(records[6].at("seq").as_int64() == 11);
  BOOST_TEST(reopened.next_seq() == 12u);
  for (const auto& entry : fs::directory_iterator(tmp.path))
    BOOST_TEST(!entry.path().filename().string().starts_with(".journal.jsonl.tmp"), entry.path());
}

BOOST_AUTO_TEST_CASE(gaps_are_accepted_only_after_a_leading_compacted_record) {
  expect_corrupt(lines({R"({"seq":0,"time":1,"type":"compacted"})", good_1, good_3, good_2}), 4,
                 "\"seq\" is 2 where 4 was expected");
  expect_corrupt(lines({good_1, R"({"seq":2,"time":1,"type":"compacted"})", R"({"seq":5,"time":1,"type":"applied"})"}), 3,
                 "where 3 was expected (records are missing");
  TempDir tmp;
  write_text(tmp.path / "journal.jsonl", lines({R"({"seq":0,"time":1,"type":"compacted"})", good_1, good_3}));
  BOOST_TEST(Journal::open(tmp.path).next_seq() == 4u);
}

BOOST_AUTO_TEST_CASE(a_compaction_that_cannot_read_its_records_changes_nothing) {
  TempDir tmp;
  auto journal = Journal::open(tmp.path);
  BOOST_TEST(!journal.append(record("start"), 1));
  const auto before = read_text(journal.path());
  const auto header = [] { return json::object{{"seq", 0}, {"time", 1}, {"type", "compacted"}}; };
  const auto all = [](std::size_t) { return true; };
  // A callback that throws in either pass.
  BOOST_TEST(!!journal.compact([](json::object) { throw std::runtime_error("no"); }, header, all));
  BOOST_TEST(!!journal.compact([](json::object) {}, [] () -> json::object { throw std::runtime_error("no"); }, all));
  BOOST_TEST(!!journal.compact([](json::object) {}, header, [](std::size_t) -> bool { throw std::runtime_error("no"); }));
  BOOST_TEST(read_text(journal.path()) == before);
  BOOST_TEST(!fs::exists(tmp.path / "journal.jsonl.1"));
  for (const auto& entry : fs::directory_iterator(tmp.path))
    BOOST_TEST(!entry.path().filename().string().starts_with(".journal.jsonl.tmp"), entry.path());
  BOOST_TEST(!journal.append(record("done"), 2));
}

BOOST_AUTO_TEST_CASE(compacting_a_journal_longer_than_a_read_chunk_writes_what_is_kept_in_order) {
  TempDir tmp;
  const std::string text = long_journal(10000);
  write_text(tmp.path / "journal.jsonl", text);
  auto journal = Journal::open(tmp.path);
  std::size_t seen = 0;
  const auto ec = journal.compact([&](json::object) { ++seen; },
                                  [] { return json::object{{"seq", 0}, {"time", 1}, {"type", "compacted"}}; },
                                  [](std::size_t index) { return index % 3 != 1; });
  BOOST_TEST(!ec, ec.message());
  BOOST_TEST(seen == 10000u);
  BOOST_TEST(read_text(tmp.path / "journal.jsonl.1") == text);
  BOOST_TEST(journal.size() == read_text(journal.path()).size());
  journal = Journal::open(tmp.path / "elsewhere");
  std::vector<std::int64_t> seqs;
  auto reopened = Journal::open(tmp.path, [&](json::object r) { seqs.push_back(r.at("seq").as_int64()); });
  BOOST_REQUIRE(seqs.size() == 1u + 10000u - 3333u);
  BOOST_TEST(seqs[0] == 0);
  bool in_order = true;
  for (std::size_t i = 2; i < seqs.size(); ++i) in_order = in_order && seqs[i] > seqs[i - 1] && seqs[i] % 3 != 2;
  BOOST_TEST(in_order);
  BOOST_TEST(seqs.back() == 10000);
  BOOST_TEST(reopened.next_seq() == 10001u);
}

BOOST_AUTO_TEST_SUITE_END()
