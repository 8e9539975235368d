/* The bench's hardware yardstick: SGD on 2-D Rosenbrock in C, recording every step's loss, |g|
   and position into arrays, stopping at the first non-finite record as tui-optim's kernels
   do; momentum, Nesterov, AdaGrad, RMSProp and Adam, which also record the step's rate (their
   kernel takes schedules, so it records ε); and each rule's 1024-path batch.
   bench_surfaces.py compiles it with `cc -O3 -march=native -ffp-contract=off -fno-math-errno`
   (numba's arithmetic: no fused multiply-adds; sqrt without errno) when a C compiler is
   present and prints our kernels' speed as a share of these loops on the same machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* SGD (lr 1e-4), recording loss, |g| and position, as the plain SGD kernel does */
static long run_sgd(int unused, long n, double *out) {
    double x0 = -1.2, x1 = 1.0;
    for (long k = 0; k < n; k++) {
        double u = 1.0 - x0, w = x1 - x0 * x0;
        double g0 = -2.0 * u - 400.0 * x0 * w, g1 = 200.0 * w;
        double f = u * u + 100.0 * w * w;
        out[k] = f;
        out[n + k] = sqrt(g0 * g0 + g1 * g1);
        out[2 * n + k] = x0;
        out[3 * n + k] = x1;
        if (!(isfinite(f) && isfinite(x0) && isfinite(x1))) return k + 1;
        x0 -= 1e-4 * g0;
        x1 -= 1e-4 * g1;
    }
    return n;
}

/* 0: momentum (lr 1e-4, alpha 0.9), 1: Nesterov (same), 2: AdaGrad (lr 0.1, delta 1e-7),
   3: RMSProp (lr 1e-3, rho 0.9, delta 1e-6), 4: Adam (lr 1e-3, rho 0.9/0.999, delta 1e-8,
   bias-corrected); each records ε too, as the register loop does */
static double fg(double x0, double x1, double *g0, double *g1) {
    double u = 1.0 - x0, w = x1 - x0 * x0;
    *g0 = -2.0 * u - 400.0 * x0 * w;
    *g1 = 200.0 * w;
    return u * u + 100.0 * w * w;
}

static long run_rule(int rule, long n, double *out) {
    double x0 = -1.2, x1 = 1.0, m0 = 0, m1 = 0, v0 = 0, v1 = 0, q1 = 1, q2 = 1, g0, g1;
    double lr = rule < 2 ? 1e-4 : (rule == 2 ? 0.1 : 1e-3);
    for (long k = 0; k < n; k++) {
        double f = fg(x0, x1, &g0, &g1);
        out[k] = f;
        out[n + k] = sqrt(g0 * g0 + g1 * g1);
        out[2 * n + k] = lr;
        out[3 * n + k] = x0;
        out[4 * n + k] = x1;
        if (!(isfinite(f) && isfinite(x0) && isfinite(x1))) return k + 1;
        if (rule == 1) fg(x0 + 0.9 * m0, x1 + 0.9 * m1, &g0, &g1);
        if (rule < 2) {
            m0 = 0.9 * m0 - lr * g0;
            m1 = 0.9 * m1 - lr * g1;
            x0 += m0;
            x1 += m1;
        } else if (rule == 2) {
            m0 += g0 * g0;
            m1 += g1 * g1;
            x0 -= lr * g0 / (1e-7 + sqrt(m0));
            x1 -= lr * g1 / (1e-7 + sqrt(m1));
        } else if (rule == 3) {
            m0 = 0.9 * m0 + 0.1 * g0 * g0;
            m1 = 0.9 * m1 + 0.1 * g1 * g1;
            x0 -= lr * g0 / sqrt(1e-6 + m0);
            x1 -= lr * g1 / sqrt(1e-6 + m1);
        } else {
            q1 *= 0.9;
            q2 *= 0.999;
            double c1 = 1.0 / (1.0 - q1), c2 = 1.0 / (1.0 - q2);
            m0 = 0.9 * m0 + 0.1 * g0;
            m1 = 0.9 * m1 + 0.1 * g1;
            v0 = 0.999 * v0 + 0.001 * g0 * g0;
            v1 = 0.999 * v1 + 0.001 * g1 * g1;
            x0 -= lr * (m0 * c1) / (sqrt(v0 * c2) + 1e-8);
            x1 -= lr * (m1 * c1) / (sqrt(v1 * c2) + 1e-8);
        }
    }
    return n;
}

#define BATCH 1024          /* paths of a batch (run_batch below) */
static double bx[BATCH], by[BATCH], bm0[BATCH], bm1[BATCH], bv0[BATCH], bv1[BATCH];

/* One rule's batch loop; `rule` is a constant at each call below, so each is its own loop
   (vectorized over paths, as numba's is) */
static inline __attribute__((always_inline)) void batch_loop(const int rule, long n,
                                                            double *restrict out) {
    const double lr[] = {1e-4, 1e-4, 1e-4, 0.1, 1e-3, 1e-3};
    const double delta = rule == 3 ? 1e-7 : (rule == 4 ? 1e-6 : 1e-8);
    double *restrict x = bx, *restrict y = by, *restrict m0 = bm0, *restrict m1 = bm1;
    double *restrict v0 = bv0, *restrict v1 = bv1;
    double q1 = 1.0, q2 = 1.0;
    for (long k = 0; k < n; k++) {
        q1 *= 0.9;
        q2 *= 0.999;
        double c1 = 1.0 / (1.0 - q1), c2 = 1.0 / (1.0 - q2);
        for (int p = 0; p < BATCH; p++) {
            double x0 = x[p], x1 = y[p], g0, g1, e0, e1;
            out[k * BATCH + p] = fg(x0, x1, &g0, &g1);
            if (rule == 0) {
                x[p] = x0 - lr[0] * g0;
                y[p] = x1 - lr[0] * g1;
            } else if (rule <= 2) {
                if (rule == 2) fg(x0 + 0.9 * m0[p], x1 + 0.9 * m1[p], &g0, &g1);
                e0 = 0.9 * m0[p] - lr[rule] * g0;
                e1 = 0.9 * m1[p] - lr[rule] * g1;
                m0[p] = e0;
                m1[p] = e1;
                x[p] = x0 + e0;
                y[p] = x1 + e1;
            } else if (rule == 3) {
                e0 = m0[p] + g0 * g0;
                e1 = m1[p] + g1 * g1;
                m0[p] = e0;
                m1[p] = e1;
                x[p] = x0 - lr[3] * g0 / (delta + sqrt(e0));
                y[p] = x1 - lr[3] * g1 / (delta + sqrt(e1));
            } else if (rule == 4) {
                e0 = 0.9 * m0[p] + 0.1 * g0 * g0;
                e1 = 0.9 * m1[p] + 0.1 * g1 * g1;
                m0[p] = e0;
                m1[p] = e1;
                x[p] = x0 - lr[4] * g0 / sqrt(delta + e0);
                y[p] = x1 - lr[4] * g1 / sqrt(delta + e1);
            } else {
                double a = 0.9 * m0[p] + 0.1 * g0, b = 0.9 * m1[p] + 0.1 * g1;
                double c = 0.999 * v0[p] + 0.001 * g0 * g0, e = 0.999 * v1[p] + 0.001 * g1 * g1;
                m0[p] = a;
                m1[p] = b;
                v0[p] = c;
                v1[p] = e;
                x[p] = x0 - lr[5] * (a * c1) / (sqrt(c * c2) + delta);
                y[p] = x1 - lr[5] * (b * c1) / (sqrt(e * c2) + delta);
            }
        }
    }
}

/* The 1024-path batches (engine/batch.py): rule 0 SGD, 1 momentum, 2 Nesterov, 3 AdaGrad,
   4 RMSProp, 5 Adam, with the rates and constants above, on BATCH paths at once (the loop
   over paths innermost, as in the batch kernel) from a grid of starts, recording each path's
   loss at every step into out[k * BATCH + p]. Returns the point-steps made. */
static long run_batch(int rule, long n, double *out) {
    for (int p = 0; p < BATCH; p++) {
        bx[p] = -2.0 + 4.0 * (p % 32) / 32.0;
        by[p] = -1.0 + 4.0 * (p / 32) / 32.0;
        bm0[p] = bm1[p] = bv0[p] = bv1[p] = 0.0;
    }
    switch (rule) {
        case 0: batch_loop(0, n, out); break;
        case 1: batch_loop(1, n, out); break;
        case 2: batch_loop(2, n, out); break;
        case 3: batch_loop(3, n, out); break;
        case 4: batch_loop(4, n, out); break;
        default: batch_loop(5, n, out);
    }
    return n * BATCH;
}

/* Best steps/s of `repeats` calls of loop(which, n, out); prints "name rate last-record". */
static void time_loop(const char *name, long (*loop)(int, long, double *), int which, long n,
                      int repeats, double *out) {
    double best = 0.0;
    long done = 0;
    for (int r = 0; r < repeats; r++) {
        double t = now();
        done = loop(which, n, out);
        double rate = done / (now() - t);
        if (rate > best) best = rate;
    }
    printf("%s %.6g %.17g\n", name, best, out[done - 1]);
}

/* reference_loops [n [repeats [name]]]: every loop, or only the one called `name` (so a bench
   can time it right beside the kernel it is compared with) */
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    const char *only = argc > 3 ? argv[3] : NULL;
    double *out = malloc(sizeof(double) * 5 * n);
    if (!only || !strcmp(only, "sgd")) time_loop("sgd", run_sgd, 0, n, repeats, out);
    const char *names[] = {"momentum", "nesterov", "adagrad", "rmsprop", "adam"};
    for (int rule = 0; rule < 5; rule++)
        if (!only || !strcmp(only, names[rule])) time_loop(names[rule], run_rule, rule, n, repeats, out);
    const char *batches[] = {"batch-sgd", "batch-momentum", "batch-nesterov", "batch-adagrad",
                             "batch-rmsprop", "batch-adam"};
    long nb = 2000;
    double *bout = malloc(sizeof(double) * nb * BATCH);
    for (int rule = 0; rule < 6; rule++)
        if (!only || !strcmp(only, batches[rule])) time_loop(batches[rule], run_batch, rule, nb, repeats, bout);
    free(bout);
    free(out);
    return 0;
}
