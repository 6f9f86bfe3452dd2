/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_compare.h: `fundguard compare A B`: are two alert sources (files or
 * kafka:TOPIC) the same set of alerts, and where do they differ?
 */
#ifndef FG_COMPARE_H
#define FG_COMPARE_H

/**
 * Run `fundguard compare` with the arguments after the command name.
 * Returns an exit code: FG_EXIT_OK (identical), FG_EXIT_RUNTIME (they
 * differ), FG_EXIT_USAGE, FG_EXIT_DATAERR (a source cannot be read) or
 * FG_EXIT_CONFIG. Main thread only.
 */
int fg_cmd_compare(int argc, char **argv);

#endif
