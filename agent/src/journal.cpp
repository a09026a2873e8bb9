#include <trimtab/agent/journal.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/stream_parser.hpp>
#include <boost/system/system_error.hpp>

#include <trimtab/core/json_text.hpp>

namespace trimtab {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::system::error_code;

namespace {

constexpr const char* journal_name = "journal.jsonl";
constexpr const char* runtime_config_name = "runtime_config.json";

error_code last_error() { return {errno, boost::system::system_category()}; }

error_code invalid_argument() { return make_error_code(boost::system::errc::invalid_argument); }

/// Throws "WHAT PATH[ (WHY)]: <the system's message>".
[[noreturn]] void fail(const error_code& ec, const std::string& what, const fs::path& path,
                       const std::string& why = {}) {
  throw boost::system::system_error(ec, what + " " + path.string() + (why.empty() ? "" : " (" + why + ")"));
}

/// Closes a file descriptor on scope exit unless released.
class FdGuard {
public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

private:
  int fd_;
};

/// fsync of a directory, so the names created, renamed or removed in it survive a crash.
error_code sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

fs::path directory_of(const fs::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// mkdir -p with mode 0700 for every directory it creates (whatever the umask); existing
/// directories are left as they are.
void create_directories_0700(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    fail(make_error_code(boost::system::errc::not_a_directory), "cannot use state directory", dir);
  }
  if (errno != ENOENT) fail(last_error(), "cannot use state directory", dir);
  const auto parent = dir.parent_path();
  if (!parent.empty() && parent != dir) create_directories_0700(parent);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return; // made meanwhile
    fail(last_error(), "cannot create state directory", dir);
  }
  if (::chmod(dir.c_str(), 0700) != 0) fail(last_error(), "cannot set the mode of state directory", dir);
  if (const auto ec = sync_directory(directory_of(dir))) fail(ec, "cannot fsync directory", directory_of(dir));
}

/// Writes all of `data`, retrying short writes and EINTR. A write that makes no progress is EIO.
template <typename Write>
error_code write_all(int fd, std::string_view data, Write&& write) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (n == 0) return make_error_code(boost::system::errc::io_error);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::string describe(const json::value& value) {
  std::string text = to_json_text(value);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

/// Why `record` is not a valid record following seq `expected_seq - 1`, or "" when it is. With
/// `gaps`, any larger seq follows too (a compacted journal: docs/journal.md).
std::string check_record(const json::object& record, std::uint64_t expected_seq, bool gaps) {
  const auto* seq = record.if_contains("seq");
  if (!seq) return "no \"seq\"";
  if (!seq->is_int64() && !seq->is_uint64()) return "\"seq\" is " + describe(*seq) + ", not an integer";
  const bool later = seq->is_uint64() || seq->get_int64() >= static_cast<std::int64_t>(expected_seq);
  if (gaps && later) {
    // fine: records were compacted away before it
  } else if (seq->is_int64() ? seq->get_int64() != static_cast<std::int64_t>(expected_seq)
                             : seq->get_uint64() != expected_seq) {
    const bool ahead = seq->is_uint64() || seq->get_int64() > static_cast<std::int64_t>(expected_seq);
    return "\"seq\" is " + describe(*seq) + " where " + std::to_string(expected_seq) + " was expected (" +
           (ahead ? "records are missing before it" : "a record is repeated or out of order") + ")";
  }
  const auto* time = record.if_contains("time");
  if (!time) return "no \"time\"";
  if (!time->is_int64()) return "\"time\" is " + describe(*time) + ", not an integer (Unix milliseconds)";
  const auto* type = record.if_contains("type");
  if (!type) return "no \"type\"";
  if (!type->is_string() || type->get_string().empty())
    return "\"type\" is " + describe(*type) + ", not the name of a record type";
  return {};
}

/// How much of the journal file is read, or written while compacting, at a time: what a long
/// journal costs in memory beyond one record.
constexpr std::size_t io_chunk = std::size_t{1} << 20;

/// Where a journal file's complete records end, and how long the file was when read.
struct RecordsRead {
  std::uint64_t complete_end = 0;
  std::uint64_t file_size = 0;
};

/// Reads the journal file through `fd` a chunk at a time, checks each complete line and hands its
/// record to `visit`, in file order, and sets `next_seq`. A torn last line (no '\n', or a last
/// line that is not JSON) is left out: RecordsRead says where the complete records end. Throws
/// JournalError naming the line, and system_error when the file cannot be read. Only one chunk
/// and one record are held at a time, so a long journal costs no more memory than a short one.
RecordsRead read_records(int fd, const fs::path& path, const Journal::RecordVisitor& visit, std::uint64_t& next_seq) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(last_error(), "cannot stat", path);
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  std::string buffer;
  std::uint64_t buffer_start = 0; // the file offset of buffer[0]
  std::uint64_t read_to = 0;      // the file offset up to which buffer holds the file
  std::size_t scan = 0;           // where the next line starts in buffer
  std::size_t line_number = 0;
  bool gaps = false;
  next_seq = 1;
  for (;;) {
    const std::size_t end = buffer.find('\n', scan);
    if (end == std::string::npos) {
      if (read_to >= size) break; // what is left has no '\n': torn by a crash mid-write
      buffer.erase(0, scan);
      buffer_start += scan;
      scan = 0;
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(io_chunk, size - read_to));
      const std::size_t had = buffer.size();
      buffer.resize(had + want);
      const ssize_t n = ::pread(fd, buffer.data() + had, want, static_cast<off_t>(read_to));
      if (n < 0) {
        buffer.resize(had);
        if (errno == EINTR) continue;
        fail(last_error(), "cannot read", path);
      }
      buffer.resize(had + static_cast<std::size_t>(n));
      read_to += static_cast<std::uint64_t>(n);
      if (n == 0) size = read_to; // shrank meanwhile: nobody else writes it, but do not loop forever
      continue;
    }
    ++line_number;
    const std::string_view line(buffer.data() + scan, end - scan);
    const bool last = buffer_start + end + 1 == size;

    json::stream_parser parser;
    error_code ec;
    const std::size_t consumed = parser.write(line.data(), line.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      if (last) break; // a last line that does not parse is torn too
      if (line.empty()) throw JournalError(path, line_number, "empty line");
      throw JournalError(path, line_number,
                         "not JSON (column " + std::to_string(consumed + 1) + ": " + ec.message() + ")");
    }
    json::value value = parser.release();
    if (!value.is_object()) throw JournalError(path, line_number, "not a JSON object");
    auto& record = value.get_object();
    // A compacted journal starts with a `compacted` record of seq 0; the seqs after it have gaps.
    const auto* type = record.if_contains("type");
    const bool compacted_start = line_number == 1 && type != nullptr && type->is_string() && type->get_string() == "compacted";
    if (auto problem = check_record(record, compacted_start ? 0 : next_seq, gaps); !problem.empty())
      throw JournalError(path, line_number, problem);
    gaps = gaps || compacted_start;
    next_seq = static_cast<std::uint64_t>(record.at("seq").to_number<std::int64_t>()) + 1;
    scan = end + 1;
    visit(std::move(record));
  }
  return RecordsRead{buffer_start + scan, size};
}

} // namespace

JournalError::JournalError(const fs::path& file, std::size_t line, const std::string& problem)
    : std::runtime_error(file.string() + ":" + std::to_string(line) + ": " + problem), file_(file), line_(line),
      problem_(problem) {}

Journal Journal::open(const fs::path& state_dir, JournalFileOps ops) {
  std::vector<json::object> records;
  auto journal = open(state_dir, [&](json::object record) { records.push_back(std::move(record)); }, std::move(ops));
  journal.records_ = std::move(records);
  return journal;
}

Journal Journal::open(const fs::path& state_dir, const RecordVisitor& visit, JournalFileOps ops) {
  fs::path dir = state_dir.lexically_normal();
  if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path(); // "state/" → "state"
  if (dir.empty()) dir = ".";
  create_directories_0700(dir);

  Journal journal;
  journal.path_ = dir / journal_name;
  journal.ops_ = std::move(ops);
  const auto& path = journal.path_;

  journal.fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (journal.fd_ < 0 && errno == ENOENT) {
    journal.fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
    if (journal.fd_ >= 0) {
      if (const auto ec = sync_directory(dir)) fail(ec, "cannot fsync directory", dir);
    } else if (errno == EEXIST) { // created meanwhile
      journal.fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    }
  }
  if (journal.fd_ < 0) fail(last_error(), "cannot open", path);
  if (::flock(journal.fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) fail(last_error(), "cannot lock", path, "another trimtab agent has it open");
    fail(last_error(), "cannot lock", path);
  }
  // A crash between writing runtime_config.json's temporary file and renaming it leaves the file
  // behind; with the journal locked no other agent writes here, so what is left is stale.
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored))
    if (entry.path().filename().string().starts_with(".runtime_config.json.tmp.")) fs::remove(entry.path(), ignored);

  const auto read = read_records(journal.fd_, path, visit, journal.next_seq_);
  if (read.complete_end < read.file_size) {
    if (::ftruncate(journal.fd_, static_cast<off_t>(read.complete_end)) != 0) fail(last_error(), "cannot truncate", path);
    if (::fdatasync(journal.fd_) != 0) fail(last_error(), "cannot fdatasync", path);
    journal.recovered_bytes_ = read.file_size - read.complete_end;
  }
  journal.size_ = read.complete_end;
  return journal;
}

Journal::Journal(Journal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), records_(std::move(other.records_)),
      next_seq_(other.next_seq_), size_(other.size_), recovered_bytes_(other.recovered_bytes_),
      needs_truncate_(other.needs_truncate_), ops_(std::move(other.ops_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    records_ = std::move(other.records_);
    next_seq_ = other.next_seq_;
    size_ = other.size_;
    recovered_bytes_ = other.recovered_bytes_;
    needs_truncate_ = other.needs_truncate_;
    ops_ = std::move(other.ops_);
  }
  return *this;
}

Journal::~Journal() { close(); }

void Journal::close() noexcept {
  if (fd_ >= 0) ::close(fd_); // releases the lock
  fd_ = -1;
}

error_code Journal::append(json::object record, std::int64_t unix_ms) {
  if (fd_ < 0) return make_error_code(boost::system::errc::bad_file_descriptor); // moved from
  const auto write = [this](int fd, const void* data, std::size_t size) {
    return ops_.write ? ops_.write(fd, data, size) : ::write(fd, data, size);
  };
  const auto datasync = [this](int fd) { return ops_.datasync ? ops_.datasync(fd) : ::fdatasync(fd); };
  const auto truncate = [this](int fd, off_t size) {
    return ops_.truncate ? ops_.truncate(fd, size) : ::ftruncate(fd, size);
  };
  // Cuts the file back to size_; if that fails, the next append tries again before writing.
  const auto cut_back = [&] {
    needs_truncate_ = truncate(fd_, static_cast<off_t>(size_)) != 0 || datasync(fd_) != 0;
  };

  if (needs_truncate_) {
    cut_back();
    if (needs_truncate_) return last_error();
  }

  const auto* type = record.if_contains("type");
  if (!type || !type->is_string() || type->get_string().empty()) return invalid_argument();

  // seq, time and type first, so the file reads well; the caller's order after them.
  json::object line(record.storage());
  line.reserve(record.size() + 2);
  line.emplace("seq", static_cast<std::int64_t>(next_seq_));
  line.emplace("time", unix_ms);
  line.emplace("type", std::move(record.at("type")));
  for (auto& [key, value] : record)
    if (key != "seq" && key != "time" && key != "type") line.emplace(key, std::move(value));
  std::string text = to_json_text(line);
  text += '\n';

  error_code ec = write_all(fd_, text, write);
  if (!ec && datasync(fd_) != 0) ec = last_error();
  if (ec) {
    cut_back();
    return ec;
  }
  size_ += text.size();
  ++next_seq_;
  return {};
}

error_code Journal::compact(const RecordVisitor& see, const std::function<json::object()>& header,
                            const std::function<bool(std::size_t)>& keeps) {
  if (fd_ < 0) return make_error_code(boost::system::errc::bad_file_descriptor);
  if (needs_truncate_) return make_error_code(boost::system::errc::resource_unavailable_try_again);
  // First pass: the caller sees every record and chooses.
  try {
    std::uint64_t next_seq = 1;
    const auto read = read_records(fd_, path_, see, next_seq);
    if (read.complete_end != read.file_size || next_seq != next_seq_)
      return make_error_code(boost::system::errc::io_error); // not what this journal wrote
  } catch (const std::exception&) {
    return make_error_code(boost::system::errc::io_error);
  }

  const fs::path dir = directory_of(path_);
  std::string temp = (dir / ("." + path_.filename().string() + ".tmp.XXXXXX")).string();
  FdGuard fd(::mkostemp(temp.data(), O_CLOEXEC | O_APPEND)); // mode 0600
  if (fd.get() < 0) return last_error();
  // Locked before it takes the journal's name, so no other agent can take it over between.
  error_code ec;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) ec = last_error();
  // Second pass: the kept records, written a chunk at a time as they are read again.
  std::uint64_t written = 0;
  if (!ec) {
    std::string text;
    const auto flush = [&] {
      if (const auto e = write_all(fd.get(), text, ::write)) throw boost::system::system_error(e);
      written += text.size();
      text.clear();
    };
    try {
      text = to_json_text(header());
      text += '\n';
      std::size_t index = 0;
      std::uint64_t next_seq = 1;
      const auto read = read_records(fd_, path_, [&](json::object record) {
        if (keeps(index++)) {
          text += to_json_text(record);
          text += '\n';
          if (text.size() >= io_chunk) flush();
        }
      }, next_seq);
      if (read.complete_end != read.file_size || next_seq != next_seq_)
        ec = make_error_code(boost::system::errc::io_error); // changed between the passes
      else
        flush();
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    } catch (const std::exception&) {
      ec = make_error_code(boost::system::errc::io_error);
    }
  }
  if (!ec && ::fsync(fd.get()) != 0) ec = last_error();
  // The journal as it was stays beside it as journal.jsonl.1 (the previous one there goes): a hard
  // link first, so there is never a moment without journal.jsonl.
  const fs::path previous = path_.string() + ".1";
  if (!ec && ::unlink(previous.c_str()) != 0 && errno != ENOENT) ec = last_error();
  if (!ec && ::link(path_.c_str(), previous.c_str()) != 0) ec = last_error();
  if (!ec && ::rename(temp.c_str(), path_.c_str()) != 0) ec = last_error();
  if (ec) {
    ::unlink(temp.c_str());
    return ec;
  }
  close(); // releases the lock on the old file, which only journal.jsonl.1 names now
  fd_ = fd.release();
  size_ = written;
  return sync_directory(dir);
}

error_code write_file_atomically(const fs::path& path, std::string_view contents) {
  const fs::path dir = directory_of(path);
  std::string temp = (dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  FdGuard fd(::mkostemp(temp.data(), O_CLOEXEC)); // mode 0600
  if (fd.get() < 0) return last_error();

  error_code ec = write_all(fd.get(), contents, ::write);
  if (!ec && ::fsync(fd.get()) != 0) ec = last_error();
  if (!ec && ::close(fd.release()) != 0) ec = last_error();
  if (!ec && ::rename(temp.c_str(), path.c_str()) != 0) ec = last_error();
  if (ec) {
    ::unlink(temp.c_str());
    return ec;
  }
  return sync_directory(dir);
}

error_code write_runtime_config(const fs::path& state_dir, const json::object& runtime_config) {
  const auto* point = runtime_config.if_contains("point");
  const auto* seq = runtime_config.if_contains("seq");
  if (!point || !point->is_object() || !seq || !(seq->is_int64() || seq->is_uint64())) return invalid_argument();
  return write_file_atomically(state_dir / runtime_config_name, to_json_text(runtime_config) + "\n");
}

} // namespace trimtab
