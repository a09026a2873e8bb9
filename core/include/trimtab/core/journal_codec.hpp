#pragma once

// Journal records to and from the JSON of journal.jsonl: the one place that knows the key names.

#include <boost/json/object.hpp>

#include <trimtab/core/journal_records.hpp>

namespace trimtab {

/// The record's "type" in the journal: "start", "observation", … (an unknown record's own).
[[nodiscard]] std::string record_type(const JournalRecord& record);

/// The record as JSON without seq and time: "type" first, then its fields in a fixed order, so
/// a line the loop writes today reads back and writes out to the same text.
[[nodiscard]] boost::json::object encode_record(const JournalRecord& record);
/// The line as the journal writes it: seq, time, then encode_record()'s fields.
[[nodiscard]] boost::json::object encode_line(const JournalLine& line);

/// Reads a record (seq and time, if present, are ignored). Fields that older builds did not
/// write are optional; a field of the wrong type, or a missing one the loop needs, throws
/// std::invalid_argument naming it. A type this build does not know becomes an UnknownRecord.
[[nodiscard]] JournalRecord decode_record(const boost::json::object& json);
/// Reads a whole line: seq and time are required too.
[[nodiscard]] JournalLine decode_line(const boost::json::object& json);

} // namespace trimtab
