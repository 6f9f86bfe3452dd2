/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_report.h: `fundguard report`, which turns alert files (nhsa.alert.v1
 * JSON Lines) into a self-contained HTML report and CSV summaries for
 * supervisors who review alerts rather than read JSON.
 */
#ifndef FG_REPORT_H
#define FG_REPORT_H

/**
 * Run `fundguard report` with the arguments after the command name.
 * Returns an exit code: FG_EXIT_OK, FG_EXIT_USAGE (bad options),
 * FG_EXIT_DATAERR (an input cannot be read) or FG_EXIT_RUNTIME (an output
 * cannot be written). Bad lines are counted and reported, not fatal.
 * Main thread only (it reads stdin when no --input is given).
 */
int fg_cmd_report(int argc, char **argv);

#endif
