/* SPDX-License-Identifier: Apache-2.0
 *
 * produce.c: the live benchmark's load generator. Reads JSON Lines claim
 * events (gzip or plain) and produces them to a topic keyed by psn_no, at
 * a fixed rate of fee lines per second (0 = as fast as possible). Prints
 * how many events and lines it produced and the rate it achieved.
 * Usage: produce BOOTSTRAP TOPIC FILE [LINES_PER_SEC]
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t count(const char *s, size_t n, const char *needle)
{
    size_t k = 0, m = strlen(needle);
    for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), needle, m)); p += m)
        k++;
    return k;
}

int main(int argc, char **argv)
{
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    gzFile gz;
    static char line[1 << 22];
    unsigned long long events = 0, lines = 0, failed = 0;
    double rate, t0;

    if (argc < 4) {
        fprintf(stderr, "usage: produce BOOTSTRAP TOPIC FILE [LINES_PER_SEC]\n");
        return 2;
    }
    rate = argc > 4 ? atof(argv[4]) : 0;
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", errstr,
                          sizeof(errstr))) {
        fprintf(stderr, "produce: %s\n", errstr);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "produce: %s\n", errstr);
        return 1;
    }
    gz = gzopen(argv[3], "rb");
    if (!gz) {
        fprintf(stderr, "produce: cannot open %s\n", argv[3]);
        return 65;
    }
    t0 = now();
    while (gzgets(gz, line, sizeof(line))) {
        size_t n = strlen(line);
        const char *k = strstr(line, "\"psn_no\":\""), *ke;
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (!n)
            continue;
        k = k ? k + 10 : line;
        ke = k == line ? line : strchr(k, '"');
        size_t nl = count(line, n, "\"feedetl_sn\"");
        /* Hold the rate: wait until this event's lines are due. */
        if (rate > 0) {
            double due = t0 + (double)lines / rate;
            double wait = due - now();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]),
                                 RD_KAFKA_V_KEY(k, ke ? (size_t)(ke - k) : 0),
                                 RD_KAFKA_V_VALUE(line, n),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        rd_kafka_poll(rk, 0);
        events++;
        lines += nl;
    }
    if (rd_kafka_flush(rk, 60000))
        failed = rd_kafka_outq_len(rk);
    double secs = now() - t0;
    printf("produce: events=%llu lines=%llu seconds=%.3f lines_per_sec=%.0f undelivered=%llu\n",
           events, lines, secs, secs > 0 ? (double)lines / secs : 0.0, failed);
    gzclose(gz);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
