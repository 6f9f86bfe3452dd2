/* SPDX-License-Identifier: Apache-2.0
 *
 * devbroker.c: `fundguard-devbroker`, a local Kafka for development and
 * tests: librdkafka's mock cluster as a standalone process. Real clients
 * (kcat, the daemon) talk to it over TCP on loopback.
 *
 * It prints the bootstrap address as the first line of stdout, creates the
 * topics, and runs until SIGTERM or SIGINT. With --port, a small forwarder
 * listens on that fixed loopback port and relays bootstrap connections to
 * the mock broker (librdkafka 2.0's mock cluster always binds an
 * ephemeral port); clients then follow the metadata to the broker itself.
 *
 * Fault injection for tests: lines on stdin such as
 *     error <ApiKey> <count> <ErrorCode>     e.g. "error 1 3 6"
 * push <count> errors onto that request type (rd_kafka_mock_push_request_errors).
 * Api keys: 0 Produce, 1 Fetch, 8 OffsetCommit, 9 OffsetFetch, 3 Metadata.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct relay {
    int a, b;
};

/* Copy bytes both ways until either side closes. */
static void *relay_main(void *arg)
{
    struct relay *r = arg;
    struct pollfd p[2] = {{r->a, POLLIN, 0}, {r->b, POLLIN, 0}};
    char buf[65536];

    while (!stop) {
        int n = poll(p, 2, 500);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(p[i].fd, buf, sizeof(buf));
            if (got <= 0)
                goto done;
            for (ssize_t off = 0; off < got;) {
                ssize_t w = write(p[1 - i].fd, buf + off, (size_t)(got - off));
                if (w <= 0)
                    goto done;
                off += w;
            }
        }
    }
done:
    close(r->a);
    close(r->b);
    free(r);
    return NULL;
}

struct forwarder {
    int listen_fd;
    int target_port;
};

static void *forward_main(void *arg)
{
    struct forwarder *f = arg;

    while (!stop) {
        struct pollfd p = {f->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 500) <= 0)
            continue;
        int c = accept(f->listen_fd, NULL, NULL);
        if (c < 0)
            continue;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {0};
        to.sin_family = AF_INET;
        to.sin_port = htons((uint16_t)f->target_port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)) < 0) {
            close(c);
            if (s >= 0)
                close(s);
            continue;
        }
        struct relay *r = malloc(sizeof(*r));
        pthread_t t;
        if (!r) {
            close(c);
            close(s);
            continue;
        }
        r->a = c;
        r->b = s;
        if (pthread_create(&t, NULL, relay_main, r) == 0)
            pthread_detach(t);
        else
            relay_main(r);
    }
    return NULL;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {0};

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *control_main(void *arg)
{
    rd_kafka_mock_cluster_t *mc = arg;
    char line[256];

    while (!stop && fgets(line, sizeof(line), stdin)) {
        int api, cnt, code;
        if (sscanf(line, "error %d %d %d", &api, &cnt, &code) == 3 && cnt > 0 && cnt < 10000) {
            rd_kafka_resp_err_t *errs = calloc((size_t)cnt, sizeof(*errs));
            if (!errs)
                continue;
            for (int i = 0; i < cnt; i++)
                errs[i] = (rd_kafka_resp_err_t)code;
            rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, (size_t)cnt, errs);
            free(errs);
            fprintf(stderr, "devbroker: pushed %d x error %d on api %d\n", cnt, code, api);
        } else if (line[0] != '\n') {
            fprintf(stderr, "devbroker: unknown command: %s", line);
        }
    }
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: fundguard-devbroker [--port N] [--topics a,b,c] "
                    "[--partitions N] [--brokers N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *topics = "claims,alerts,claims.dlq";
    int port = 0, partitions = 4, brokers = 1;
    char errstr[512], *list, *tok, *save = NULL;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    struct forwarder fwd = {-1, 0};
    pthread_t fwd_thread, ctl_thread;
    struct sigaction sa = {0};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--topics") == 0 && i + 1 < argc)
            topics = argv[++i];
        else if (strcmp(argv[i], "--partitions") == 0 && i + 1 < argc)
            partitions = atoi(argv[++i]);
        else if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else
            return usage();
    }
    if (port < 0 || port > 65535 || partitions < 1 || brokers < 1)
        return usage();

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "devbroker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "devbroker: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    list = strdup(topics);
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (*tok && rd_kafka_mock_topic_create(mc, tok, partitions, 1))
            fprintf(stderr, "devbroker: cannot create topic %s\n", tok);
    free(list);

    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    if (port) {
        const char *colon = strchr(boot, ':');
        fwd.target_port = colon ? atoi(colon + 1) : 0;
        fwd.listen_fd = listen_on(port);
        if (fwd.listen_fd < 0) {
            fprintf(stderr, "devbroker: cannot listen on 127.0.0.1:%d: %s\n", port,
                    strerror(errno));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
        pthread_create(&fwd_thread, NULL, forward_main, &fwd);
        printf("127.0.0.1:%d\n", port);
    } else {
        printf("%s\n", boot);
    }
    fflush(stdout);
    fprintf(stderr, "devbroker: mock cluster %s, %d broker(s), topics %s x %d partitions\n",
            boot, brokers, topics, partitions);

    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_create(&ctl_thread, NULL, control_main, mc);
    pthread_detach(ctl_thread);
    while (!stop)
        pause();

    if (fwd.listen_fd >= 0) {
        pthread_join(fwd_thread, NULL);
        close(fwd.listen_fd);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
