/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_csv.h: a strict RFC 4180 reader for reference tables. Columns are
 * found by header name; '#' lines and blank lines are skipped; every record
 * knows the line it started on, so a rejection can name it.
 */
#ifndef FG_CSV_H
#define FG_CSV_H

#include <stddef.h>

#include "fg_buf.h"

#define FG_CSV_MAX_COLS 32

struct fg_csv {
    const char *path;
    char *data;             /* whole file, owned */
    size_t len, pos;
    int line;               /* next physical line number */
    int rec_line;           /* line the current record started on */
    int header_line;        /* line of the header row */
    char *header[FG_CSV_MAX_COLS];
    size_t nheader;
    char *field[FG_CSV_MAX_COLS];
    size_t nfield;
    struct fg_buf store;    /* current record's unescaped fields */
};

/** Open and read the header. Returns 0, or -1 with err filled in. */
int fg_csv_open(struct fg_csv *csv, const char *path, char *err, size_t errlen);
/** Next record: 1 read, 0 end of file, -1 malformed (err says why). */
int fg_csv_next(struct fg_csv *csv, char *err, size_t errlen);
/** Column index of a header name, or -1. */
int fg_csv_col(const struct fg_csv *csv, const char *name);
/** Field i of the current record, "" when the record is shorter. */
const char *fg_csv_get(const struct fg_csv *csv, int col);
void fg_csv_close(struct fg_csv *csv);

#endif
