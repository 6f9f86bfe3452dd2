/* SPDX-License-Identifier: Apache-2.0
 *
 * test_devbroker_nodelay.c: the dev broker's connections have Nagle's
 * algorithm off, as a real Kafka broker's do (src/devbroker_nodelay.c).
 *
 * A mock cluster runs in this process, linked as fundguard-devbroker is;
 * the test connects to it and finds the socket the mock accepted among its
 * own descriptors. Without the accept() override the option is off, and
 * each producer flush over several partitions waited ~40 ms for a delayed
 * ACK.
 */
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* The descriptor of a connected TCP socket on local port `port` other
 * than `not`, or -1. */
static int accepted_on(int port, int not)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;

    assert_non_null(dir);
    while (found < 0 && (e = readdir(dir))) {
        int fd = atoi(e->d_name);
        struct sockaddr_in self, peer;
        socklen_t sl = sizeof(self), pl = sizeof(peer);
        if (e->d_name[0] == '.' || fd == not || fd == dirfd(dir))
            continue;
        if (getsockname(fd, (struct sockaddr *)&self, &sl) == 0 && self.sin_family == AF_INET &&
            ntohs(self.sin_port) == port &&
            getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
            found = fd;
    }
    closedir(dir);
    return found;
}

static void test_accepted_without_nagle(void **unused)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    const char *boot, *colon;
    struct sockaddr_in to = {0};
    struct timespec start, now, pause = {0, 1000000};
    int port, c, s = -1, on = 0;
    socklen_t len = sizeof(on);

    (void)unused;
    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    mc = rd_kafka_mock_cluster_new(rk, 1);
    assert_non_null(mc);
    boot = rd_kafka_mock_cluster_bootstraps(mc);
    colon = strrchr(boot, ':');
    assert_non_null(colon);
    port = atoi(colon + 1);

    c = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
    /* The mock accepts on its own thread: look until it has, or 10 s. */
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        s = accepted_on(port, c);
        if (s < 0)
            nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (s < 0 && now.tv_sec - start.tv_sec < 10);
    assert_true(s >= 0);
    assert_int_equal(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    assert_int_equal(on, 1);
    /* ours, the connecting side, is untouched */
    assert_int_equal(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    assert_int_equal(on, 0);

    close(c);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_without_nagle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
