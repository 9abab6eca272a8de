/* A CPU load for the profile-N tests: THREADS threads (the main one included) spin until
 * MS milliseconds after start, then the process prints its pid and exits. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static double deadline;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *spin(void *arg) {
    while (now() < deadline) {
    }
    return arg;
}

int main(int argc, char **argv) {
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    pthread_t t[MAX_THREADS];
    if (threads < 1 || threads > MAX_THREADS)
        return 2;
    deadline = now() + (argc > 1 ? atoi(argv[1]) : 100) / 1000.0;
    for (int i = 1; i < threads; i++)
        pthread_create(&t[i], 0, spin, 0);
    spin(0);
    for (int i = 1; i < threads; i++)
        pthread_join(t[i], 0);
    printf("pid=%d\n", getpid());
    return 0;
}
