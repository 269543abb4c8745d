/* Element-wise kernels of the MLP step: bias + activation, activation derivative, bias
 * gradient and the two losses, each one pass over its rows. */
#include "kernels.h"

#include <math.h>

#include "occam/error.h"

static inline float act_f(float x, occam_act act)
{
    switch (act) {
    case OCCAM_ACT_RELU: return !(x <= 0.0f) ? x : 0.0f; /* NaN stays NaN: see below */
    case OCCAM_ACT_TANH: return tanhf(x);
    case OCCAM_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    }
    return x;
}

void occam_bias_act_forward(float *restrict z, const float *restrict b, int m, int n,
                            occam_act act)
{
    /* One loop per activation so the relu case vectorises. A NaN stays NaN (v > 0 made it 0:
     * a hidden unit at inf - inf gave the output bias alone, a finite prediction, and a finite
     * loss the divergence check let pass); every other value is as before. */
    if (act == OCCAM_ACT_RELU) {
        for (int i = 0; i < m; i++) {
            float *restrict zi = z + (size_t)i * n;
            for (int j = 0; j < n; j++) {
                float v = zi[j] + b[j];
                zi[j] = !(v <= 0.0f) ? v : 0.0f;
            }
        }
        return;
    }
    for (int i = 0; i < m; i++) {
        float *restrict zi = z + (size_t)i * n;
        for (int j = 0; j < n; j++) zi[j] = act_f(zi[j] + b[j], act);
    }
}

void occam_bias_forward(float *restrict z, const float *restrict b, int m, int n)
{
    for (int i = 0; i < m; i++) {
        float *restrict zi = z + (size_t)i * n;
        for (int j = 0; j < n; j++) zi[j] += b[j];
    }
}

void occam_act_backward(float *restrict d, const float *restrict a, int m, int n, occam_act act)
{
    size_t len = (size_t)m * n;
    switch (act) {
    case OCCAM_ACT_RELU:
        for (size_t i = 0; i < len; i++) d[i] = a[i] > 0.0f ? d[i] : 0.0f;
        break;
    case OCCAM_ACT_TANH:
        for (size_t i = 0; i < len; i++) d[i] *= 1.0f - a[i] * a[i];
        break;
    case OCCAM_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++) d[i] *= a[i] * (1.0f - a[i]);
        break;
    }
}

void occam_bias_backward(float *restrict db, const float *restrict dz, int m, int n, int ld)
{
    for (int j = 0; j < n; j++) db[j] = 0.0f;
    for (int i = 0; i < m; i++) {
        const float *restrict di = dz + (size_t)i * ld;
        for (int j = 0; j < n; j++) db[j] += di[j];
    }
}

void occam_softmax_xent(float *dz, const float *z, const int32_t *restrict label, int m, int n,
                        float scale, double *restrict loss, int64_t *restrict correct)
{
    double lsum = 0.0;
    int64_t ok = 0;
    for (int i = 0; i < m; i++) {
        const float *zi = z + (size_t)i * n;
        int y = label[i];
        OCCAM_ASSERT(y >= 0 && y < n);
        int arg = 0;
        float mx = zi[0];
        for (int j = 1; j < n; j++)
            if (zi[j] > mx) { mx = zi[j]; arg = j; }
        /* log-sum-exp in double: the loss is summed over 60k rows and must not lose bits.
         * Each difference z - max is taken in float first (exact within a factor of 2 of max,
         * else one rounding: about 2^-24 |z - max| a row), so the loss is float-accurate per
         * row; taking it in double would change dz's last bits, and so every trained weight. */
        double s = 0.0;
        for (int j = 0; j < n; j++) s += exp((double)(zi[j] - mx));
        lsum += log(s) - (double)(zi[y] - mx);
        ok += (arg == y);
        if (dz) {
            float *di = dz + (size_t)i * n;
            double inv = 1.0 / s;
            for (int j = 0; j < n; j++) {
                double p = exp((double)(zi[j] - mx)) * inv;
                di[j] = (float)((p - (j == y)) * scale);
            }
        }
    }
    *loss += lsum;
    *correct += ok;
}

void occam_mse(float *dy, const float *y, const float *restrict t, int m, int n, float scale,
               double *restrict sse)
{
    double s = 0.0;
    size_t len = (size_t)m * n;
    for (size_t i = 0; i < len; i++) {
        float r = y[i] - t[i];
        s += (double)r * r;
        if (dy) dy[i] = 2.0f * r * scale;
    }
    *sse += s;
}
