/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_csv.c: the reader reads the whole file (tables are megabytes at most)
 * and unescapes each record into one buffer of NUL-separated fields.
 */
#include "fg_csv.h"
#include "fg_common.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int read_record(struct fg_csv *csv, char *err, size_t errlen)
{
    size_t offs[FG_CSV_MAX_COLS];
    size_t n = 0;
    int quoted = 0, at_field_start = 1;

    fg_buf_reset(&csv->store);
    offs[n++] = 0;
    csv->rec_line = csv->line;
    while (csv->pos < csv->len) {
        char c = csv->data[csv->pos++];
        if (quoted) {
            if (c == '"') {
                if (csv->pos < csv->len && csv->data[csv->pos] == '"') {
                    fg_buf_putc(&csv->store, '"');
                    csv->pos++;
                } else {
                    quoted = 0;
                }
            } else {
                if (c == '\n')
                    csv->line++;
                fg_buf_putc(&csv->store, c);
            }
            continue;
        }
        if (c == '"' && at_field_start) {
            quoted = 1;
            at_field_start = 0;
        } else if (c == ',') {
            fg_buf_putc(&csv->store, '\0');
            if (n == FG_CSV_MAX_COLS) {
                snprintf(err, errlen, "%s:%d: more than %d columns", csv->path,
                         csv->rec_line, FG_CSV_MAX_COLS);
                return -1;
            }
            offs[n++] = csv->store.len;
            at_field_start = 1;
        } else if (c == '\n') {
            csv->line++;
            break;
        } else if (c == '\r' && csv->pos < csv->len && csv->data[csv->pos] == '\n') {
            continue;
        } else {
            fg_buf_putc(&csv->store, c);
            at_field_start = 0;
        }
    }
    if (quoted) {
        snprintf(err, errlen, "%s:%d: unterminated quoted field", csv->path,
                 csv->rec_line);
        return -1;
    }
    fg_buf_putc(&csv->store, '\0');
    csv->nfield = n;
    for (size_t i = 0; i < n; i++)
        csv->field[i] = csv->store.data + offs[i];
    return 0;
}

/* Skip comment and blank lines; returns 1 if a record starts here. */
static int skip_noise(struct fg_csv *csv)
{
    while (csv->pos < csv->len) {
        char c = csv->data[csv->pos];
        if (c == '#' || c == '\n' || c == '\r') {
            const char *nl = memchr(csv->data + csv->pos, '\n', csv->len - csv->pos);
            csv->pos = nl ? (size_t)(nl - csv->data) + 1 : csv->len;
            csv->line++;
            continue;
        }
        return 1;
    }
    return 0;
}

int fg_csv_open(struct fg_csv *csv, const char *path, char *err, size_t errlen)
{
    FILE *f;
    long sz;

    memset(csv, 0, sizeof(*csv));
    csv->path = path;
    csv->line = 1;
    fg_buf_init(&csv->store);
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A directory opens, and on ext4 seeks to an "end" of LLONG_MAX: the
     * allocation below then aborted the process (found with fuzz_pack:
     * tests/fuzz/regress/pack/table-is-*-dir). Tables are regular files. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        fg_csv_close(csv);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        snprintf(err, errlen, "%s: cannot size file", path);
        fclose(f);
        fg_csv_close(csv);
        return -1;
    }
    csv->data = fg_malloc((size_t)sz + 1);
    csv->len = fread(csv->data, 1, (size_t)sz, f);
    fclose(f);
    csv->data[csv->len] = '\0';
    /* A UTF-8 byte-order mark would glue itself to the first header. */
    if (csv->len >= 3 && memcmp(csv->data, "\xef\xbb\xbf", 3) == 0)
        csv->pos = 3;
    if (!skip_noise(csv)) {
        snprintf(err, errlen, "%s: no header row", path);
        fg_csv_close(csv);
        return -1;
    }
    if (read_record(csv, err, errlen)) {
        fg_csv_close(csv);
        return -1;
    }
    csv->header_line = csv->rec_line;
    csv->nheader = csv->nfield;
    for (size_t i = 0; i < csv->nheader; i++)
        csv->header[i] = fg_strdup(csv->field[i]);
    return 0;
}

int fg_csv_next(struct fg_csv *csv, char *err, size_t errlen)
{
    if (!skip_noise(csv))
        return 0;
    return read_record(csv, err, errlen) ? -1 : 1;
}

int fg_csv_col(const struct fg_csv *csv, const char *name)
{
    for (size_t i = 0; i < csv->nheader; i++)
        if (strcmp(csv->header[i], name) == 0)
            return (int)i;
    return -1;
}

const char *fg_csv_get(const struct fg_csv *csv, int col)
{
    if (col < 0 || (size_t)col >= csv->nfield)
        return "";
    return csv->field[col];
}

void fg_csv_close(struct fg_csv *csv)
{
    for (size_t i = 0; i < csv->nheader; i++)
        free(csv->header[i]);
    free(csv->data);
    fg_buf_fini(&csv->store);
    memset(csv, 0, sizeof(*csv));
}
