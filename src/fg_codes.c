/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_codes.c: interface code dictionaries shared by detectors.
 */
#include "fg_detector_api.h"

#include <string.h>

int fg_hosp_level(const char *lv)
{
    static const struct {
        const char *code;
        int level;
    } map[] = {{"01", 3}, {"02", 3}, {"03", 3}, {"04", 3}, {"12", 3}, {"05", 2}, {"06", 2},
               {"07", 2}, {"13", 2}, {"08", 1}, {"09", 1}, {"10", 1}, {"14", 1}, {"11", 0}};

    for (size_t i = 0; lv && i < sizeof(map) / sizeof(*map); i++)
        if (strcmp(lv, map[i].code) == 0)
            return map[i].level;
    return -1;
}
