"""The recurrent layers' compiled forward and backward on every kernel path
against a NumPy reference written here: batches above 8, where each step's
recurrent product runs on W_hh packed once per call (csrc/rnn.inc, pb_*),
with row tiles and column panels cut at their edges and (backward) K cut
into several blocks; batches up to 8, where the forward's products are the
GEMV panels of unit blocks (rnn_fwd.inc, rnn_gemv; three blocks on one
thread, two on two, panels and K chunks with edges); sequences of unequal lengths (packed batch sizes)."""
import numpy as np
import pytest

from fastnn import _core

LSTM, GRU, TANH = 2, 3, 0
GATES = {LSTM: 4, GRU: 3, TANH: 1}


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _reference(mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, bs, dy, dhn, dcn):
    """Forward and backward through time in NumPy; returns y, hn, cn and the
    gradients dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0 of
    sum(y * dy) + sum(hn * dhn) (+ sum(cn * dcn))."""
    H = w_hh.shape[1]
    offs = np.concatenate([[0], np.cumsum(bs)])
    h, c = h0.copy(), c0.copy()
    y = np.zeros((offs[-1], H))
    saved = []
    for t, b in enumerate(bs):
        xt, hp, cp = x[offs[t]:offs[t + 1]], h[:b].copy(), c[:b].copy()
        gi = xt @ w_ih.T + b_ih
        gh = hp @ w_hh.T + b_hh
        if mode == LSTM:
            a = gi + gh
            i, f, g, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), \
                _sig(a[:, 3 * H:])
            c[:b] = f * cp + i * g
            h[:b] = o * np.tanh(c[:b])
            saved.append((hp, cp, i, f, g, o, np.tanh(c[:b])))
        elif mode == GRU:
            r = _sig(gi[:, :H] + gh[:, :H])
            z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h[:b] = (1 - z) * n + z * hp
            saved.append((hp, r, z, n, gh[:, 2 * H:]))
        else:
            h[:b] = np.tanh(gi + gh)
            saved.append((hp, h[:b].copy()))
        y[offs[t]:offs[t + 1]] = h[:b]
    hn, cn = h.copy(), c.copy()
    dh, dc = dhn.copy(), dcn.copy()
    dx = np.zeros_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    for t in range(len(bs) - 1, -1, -1):
        b, sl = bs[t], slice(offs[t], offs[t + 1])
        d = dh[:b] + dy[sl]
        if mode == LSTM:
            hp, cp, i, f, g, o, tc = saved[t]
            dct = dc[:b] + d * o * (1 - tc ** 2)
            dgi = np.concatenate([dct * g * i * (1 - i), dct * cp * f * (1 - f),
                                  dct * i * (1 - g ** 2), d * tc * o * (1 - o)], axis=1)
            dgh = dgi
            dc[:b] = dct * f
            dhp = dgh @ w_hh
        elif mode == GRU:
            hp, r, z, n, ghn = saved[t]
            dan = d * (1 - z) * (1 - n ** 2)
            dar = dan * ghn * r * (1 - r)
            daz = d * (hp - n) * z * (1 - z)
            dgi = np.concatenate([dar, daz, dan], axis=1)
            dgh = np.concatenate([dar, daz, dan * r], axis=1)
            dhp = d * z + dgh @ w_hh
        else:
            hp, hv = saved[t]
            dgi = dgh = d * (1 - hv ** 2)
            dhp = dgh @ w_hh
        dh[:b] = dhp
        dx[sl] = dgi @ w_ih
        dw_ih += dgi.T @ x[sl]
        dw_hh += dgh.T @ hp
        db_ih += dgi.sum(0)
        db_hh += dgh.sum(0)
    return y, hn, cn, dx, dw_ih, dw_hh, db_ih, db_hh, dh, dc


@pytest.mark.parametrize("mode", [LSTM, GRU, TANH])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,H", [(40, 100),     # 40 rows: MR tiles with an edge; K blocks
                                 (5, 200)])     # GEMV: 3 (2 on two threads) unit blocks, K = 200
def test_rnn_layer_every_path_matches_numpy(isa, mode, dtype, B, H):
    r = np.random.default_rng(mode)
    I = 20
    G = GATES[mode] * H
    bs = np.array([B, B, B - 2, B // 4], np.int64)
    N = int(bs.sum())
    x = r.standard_normal((N, I))
    w_ih, w_hh = 0.2 * r.standard_normal((G, I)), 0.2 * r.standard_normal((G, H))
    b_ih, b_hh = 0.1 * r.standard_normal((2, G))
    h0, c0 = r.standard_normal((2, B, H))
    dy, dhn, dcn = r.standard_normal((N, H)), r.standard_normal((B, H)), r.standard_normal((B, H))
    if mode != LSTM:
        c0, dcn = np.zeros((B, H)), np.zeros((B, H))
    want = _reference(mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, bs, dy, dhn, dcn)
    cast = [a.astype(dtype) for a in (x, w_ih, w_hh, b_ih, b_hh, h0, c0, dy, dhn, dcn)]
    x, w_ih, w_hh, b_ih, b_hh, h0, c0, dy, dhn, dcn = cast
    for nt in (1, 2):
        y = np.empty((N, H), dtype)
        hn, cn = np.empty((B, H), dtype), np.empty((B, H), dtype)
        sv = np.empty(_core.rnn_saved_len(mode, I, H, 0, bs), dtype)
        _core.rnn_fwd(mode, False, x, w_ih, w_hh, b_ih, b_hh, None, h0, c0, y, 0, hn, cn, sv,
                      bs, nt)
        outs = [np.empty((N, I), dtype), np.empty_like(w_ih), np.empty_like(w_hh),
                np.empty(G, dtype), np.empty(G, dtype)]
        dh0, dc0 = np.empty((B, H), dtype), np.empty((B, H), dtype)
        _core.rnn_bwd(mode, False, x, w_ih, w_hh, None, sv, dy, 0, dhn,
                      dcn if mode == LSTM else None, outs[0], False, *outs[1:], None, dh0,
                      dc0 if mode == LSTM else None, bs, nt)
        got = [y, hn, cn] + outs + [dh0, dc0]
        tol = 2e-4 if dtype == np.float32 else 1e-10
        for k, (g, w) in enumerate(zip(got, want)):
            if mode != LSTM and k in (2, 9):
                continue                    # no cell state
            scale = max(1.0, float(np.abs(w).max()))
            assert np.abs(g - w).max() <= tol * scale, (k, float(np.abs(g - w).max()))
