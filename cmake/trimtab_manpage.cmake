# Writes trimtab(1) from the binary's own help: `trimtab --help`, then `trimtab COMMAND --help`
# for every command that lists, so the man page and --help cannot drift apart.
#   cmake -DTRIMTAB=path/to/trimtab -DVERSION=x.y.z -DOUTPUT=trimtab.1 -P trimtab_manpage.cmake

function(run_help out)
  execute_process(COMMAND ${TRIMTAB} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "trimtab ${ARGN} --help exited with ${status}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Help text as roff, verbatim: backslashes and minus signs escaped, a leading dot or quote
# protected, so each line reads exactly as on a terminal.
function(to_roff out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  set(${out} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

run_help(usage)
# The command names: the first word of each line under "Commands:".
string(REGEX MATCH "Commands:\n(.*)\n\nOptions:" block "${usage}")
string(REGEX MATCHALL "\n  [a-z]+ " lines "\n${CMAKE_MATCH_1}")
set(commands)
foreach(line ${lines})
  string(STRIP "${line}" name)
  list(APPEND commands ${name})
endforeach()
if(NOT commands)
  message(FATAL_ERROR "no commands found in trimtab --help")
endif()

to_roff(overview "${usage}")
set(page ".TH TRIMTAB 1 \"\" \"trimtab ${VERSION}\" \"User Commands\"
.SH NAME
trimtab \\- tunes live services while they run
.SH SYNOPSIS
.B trimtab
.I command
.RI [ options ]
.SH DESCRIPTION
trimtab scrapes a service's metrics, proposes new values for its knobs, applies them through
adapters that hot\\-reload the service, scores each observation window, and keeps what is better,
inside safety limits written in a YAML tuning config. What follows is
.BR \"trimtab \\-\\-help\"
and each command's
.BR \\-\\-help .
.PP
${overview}.SH COMMANDS
")
foreach(command ${commands})
  run_help(text ${command})
  to_roff(body "${text}")
  string(APPEND page ".SS trimtab ${command}\n${body}")
endforeach()
string(APPEND page ".SH FILES
.TP
.I /etc/trimtab/NAME.yaml
The tuning config of the agent
.B trimtab@NAME.service
runs; its
.B state.dir
is
.IR /var/lib/trimtab/NAME .
.TP
.I /var/lib/trimtab/NAME/journal.jsonl
The agent's journal: one JSON record per proposal, apply, observation and decision, replayed on
start.
.TP
.I /var/lib/trimtab/NAME/runtime_config.json
The last known good configuration, restored on start.
.SH EXIT STATUS
0 done; 1 a usage error; 2 a config with mistakes, each named as file:line:column (for solve, a
malformed result line); 3 the agent could not start, stopped on an error, or could not be reached;
4 a running agent refused a command.
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1),
.BR systemd.exec (5)
")
file(WRITE ${OUTPUT} "${page}")
