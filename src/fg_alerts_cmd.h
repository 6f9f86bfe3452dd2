/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alerts_cmd.h: `fundguard alerts`: follow the alert topic, one
 * readable line per alert, for a supervisor at a terminal or a script.
 */
#ifndef FG_ALERTS_CMD_H
#define FG_ALERTS_CMD_H

/**
 * Run `fundguard alerts` with the arguments after the command name.
 * Returns an exit code: FG_EXIT_OK (stopped by a signal, or at the end
 * with --exit-at-end), FG_EXIT_RUNTIME (Kafka failed), FG_EXIT_USAGE or
 * FG_EXIT_CONFIG. Installs SIGINT/SIGTERM handlers; main thread only.
 */
int fg_cmd_alerts(int argc, char **argv);

#endif
