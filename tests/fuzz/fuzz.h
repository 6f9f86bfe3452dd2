/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz.h: what the harnesses share: the libFuzzer entry point, a private
 * temporary folder per process, a reader that turns fuzz bytes into
 * fields, and a check that aborts (so libFuzzer, ASan and the plain
 * driver all report it as a crash with the input that caused it).
 */
#ifndef FG_FUZZ_H
#define FG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point; driver.c calls it without libFuzzer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Abort with a message: a harness's property did not hold. */
void fz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__FILE__, __LINE__, __VA_ARGS__);                          \
    } while (0)

/**
 * The process's private folder ($TMPDIR or /tmp, "fgfuzz.XXXXXX"),
 * created on first use and removed with everything in it at exit.
 */
const char *fz_tmpdir(void);
/** "<tmpdir>/<name>" in a new string (free it). */
char *fz_tmp_path(const char *name);
/** Write data[0..n) to path (created or truncated); aborts on failure. */
void fz_write_file(const char *path, const void *data, size_t n);

/* Fuzz bytes consumed front to back; reads past the end give zeros, so
 * every input, however short, decodes to some value of every field. */
struct fz_in {
    const uint8_t *p;
    size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/** The bytes up to the next NUL (or the end) as a new NUL-terminated
 * string; the NUL is consumed. Never returns NULL. */
char *fz_str(struct fz_in *in);

#endif
