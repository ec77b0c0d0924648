/* dwconv2d.c -- the pass geometry of the depthwise kernels and their
 * float/double instantiations (dwconv2d.inc); see dwconv2d.h. */
#include "dwconv2d.h"
#include "conv_internal.h"
#include "gemm.h"   /* fnn_gemm_active_isa: dwconv_cl.inc's tile form */
#include "fnn_generic.h"   /* FN, FNN_CLONES */

/* One gather pass: N images of Cin input planes (H x W) -> Kout output
 * planes (OH x OW); output plane k reads the Cg input planes
 * [(k / Kg) * Cg, + Cg) through an R x S kernel with stride, padding and
 * dilation.  The forward: Cin = C, Kout = K, Cg = 1, Kg = m.  The input
 * gradient at stride 1: Cin = K (dy), Kout = C, Cg = m, Kg = 1, the kernel
 * flipped, padding dil*(R-1) - pad. */
typedef struct {
    int64_t N, Cin, H, W, Kout, Cg, Kg;
    int64_t R, S, sh, sw, ph, pw, dh, dw, OH, OW;
    int64_t Hp, Wp;   /* the padded input plane */
    int64_t L;        /* stride 1: flat output length (OH-1)*Wp + OW */
} dd_pass;

static dd_pass dd_forward_pass(const fnn_conv2d_desc *d) {
    dd_pass p = {.N = d->N, .Cin = d->C, .H = d->H, .W = d->W, .Kout = d->K, .Cg = 1,
                 .Kg = d->K / d->C, .R = d->R, .S = d->S, .sh = d->sh, .sw = d->sw,
                 .ph = d->ph, .pw = d->pw, .dh = d->dil_h, .dw = d->dil_w, .OH = d->OH,
                 .OW = d->OW};
    p.Hp = p.H + 2 * p.ph, p.Wp = p.W + 2 * p.pw;
    p.L = (p.OH - 1) * p.Wp + p.OW;
    return p;
}

/* The input gradient of d as a gather (stride 1 and padding within the
 * dilated kernel's reach), or 0 when it must scatter. */
static int dd_dx_pass(const fnn_conv2d_desc *d, dd_pass *p) {
    if (d->sh != 1 || d->sw != 1 || d->ph > d->dil_h * (d->R - 1) ||
        d->pw > d->dil_w * (d->S - 1))
        return 0;
    const int64_t m = d->K / d->C;
    *p = (dd_pass){.N = d->N, .Cin = d->K, .H = d->OH, .W = d->OW, .Kout = d->C, .Cg = m,
                   .Kg = 1, .R = d->R, .S = d->S, .sh = 1, .sw = 1,
                   .ph = d->dil_h * (d->R - 1) - d->ph, .pw = d->dil_w * (d->S - 1) - d->pw,
                   .dh = d->dil_h, .dw = d->dil_w, .OH = d->H, .OW = d->W};
    p->Hp = p->H + 2 * p->ph, p->Wp = p->W + 2 * p->pw;
    p->L = (p->OH - 1) * p->Wp + p->OW;
    return 1;
}

/* Chunks of images per output channel of the weight gradient: enough work
 * items for 64 threads' worth of sharing, a function of the shape only. */
static int64_t dd_chunks(const fnn_conv2d_desc *d) {
    int64_t nch = (64 + d->K - 1) / d->K;
    if (nch > d->N) nch = d->N;
    return nch < 1 ? 1 : nch;
}

/* the index type of the generic body: as wide as T */
#define dd_ti_f32 int32_t
#define dd_ti_f64 int64_t
#define TI FN(dd_ti)
#define FNN_BODY "dwconv2d.inc"
#include "fnn_instantiate.inc"

int fnn_dwconv2d_channels_last(const fnn_conv2d_desc *d) { return dc_use_f32(d); }
