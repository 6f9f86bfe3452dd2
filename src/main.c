/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c: argv to a command, and nothing else.
 */
#include "fg_alerts_cmd.h"
#include "fg_app.h"
#include "fg_common.h"
#include "fg_compare.h"
#include "fg_detector.h"
#include "fg_report.h"

#include <string.h>

#ifndef FG_VERSION
#define FG_VERSION "dev"
#endif

static int usage(FILE *out)
{
    fprintf(out,
            "fundguard %s: stream checker for medical-insurance fund supervision\n\n"
            "usage: fundguard COMMAND [options]\n\n"
            "commands:\n"
            "  replay -c FILE --input PATH   audit replay of claims from files\n"
            "  replay -c FILE --topic T --from TIME [--to TIME]\n"
            "                                audit replay from a Kafka topic, by event time\n"
            "  check-config -c FILE          validate config and reference tables\n"
            "  report --html FILE           HTML/CSV report of alert files (--csv-dir DIR)\n"
            "  compare A B                   compare two alert sources (files or kafka:TOPIC)\n"
            "  alerts -c FILE                follow the alert topic, one line per alert\n"
            "  detectors                     list detectors, rules and parameters\n"
            "  run -c FILE                   the live daemon (Kafka + Redis)\n"
            "  version                       print the version\n\n"
            "every command that reads a config accepts --set KEY=VALUE overrides.\n",
            FG_VERSION);
    return out == stderr ? FG_EXIT_USAGE : FG_EXIT_OK;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2)
        return usage(stderr);
    cmd = argv[1];
    if (strcmp(cmd, "replay") == 0)
        return fg_cmd_replay(argc - 2, argv + 2);
    if (strcmp(cmd, "check-config") == 0)
        return fg_cmd_check_config(argc - 2, argv + 2);
    if (strcmp(cmd, "detectors") == 0) {
        fg_detectors_describe(stdout);
        return FG_EXIT_OK;
    }
    if (strcmp(cmd, "report") == 0)
        return fg_cmd_report(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0)
        return fg_cmd_compare(argc - 2, argv + 2);
    if (strcmp(cmd, "alerts") == 0)
        return fg_cmd_alerts(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return fg_cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("fundguard %s\n", FG_VERSION);
        return FG_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return usage(stdout);
    fprintf(stderr, "fundguard: unknown command '%s'\n", cmd);
    return usage(stderr);
}
